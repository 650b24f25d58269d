"""Texts per second and MB per second of Presidio's Swedish personnummer recognizer.

Presidio's `SePersonnummerRecognizer` (presidio-analyzer, `requirements.txt`) alone: a
`PatternRecognizer`, called directly with `nlp_artifacts=None`, no NLP model, over the same
corpora as `aipolicy`'s finders (written by `examples/text_rate.rs write DIR`). The figures are
in the same terms as the example's `rate`: the median of timed rounds over the whole corpus.

    python3 -m venv /tmp/presidio && /tmp/presidio/bin/pip install -r benches/presidio/requirements.txt
    taskset -c 0 /tmp/presidio/bin/python benches/presidio/bench.py rate /tmp/corpus prompts 5
    /tmp/presidio/bin/python benches/presidio/bench.py check /tmp/corpus
"""

import json
import sys
import time
from importlib.metadata import version

from presidio_analyzer.predefined_recognizers import SePersonnummerRecognizer


def load(directory, name):
    with open(f"{directory}/{name}.jsonl", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def rate(directory, name, seconds):
    texts = load(directory, name)
    recognizer = SePersonnummerRecognizer()
    entities = recognizer.supported_entities
    size = sum(len(t.encode("utf-8")) for t in texts)

    def one_round():
        found = 0
        for text in texts:
            found += len(recognizer.analyze(text, entities=entities, nlp_artifacts=None))
        return found

    one_round()  # warm up: compile the patterns
    rounds = []
    start = time.perf_counter()
    while time.perf_counter() - start < seconds or len(rounds) < 3:
        t = time.perf_counter()
        one_round()
        rounds.append(time.perf_counter() - t)
    rounds.sort()
    median = rounds[len(rounds) // 2]
    print(
        f"presidio-analyzer {version('presidio-analyzer')} SePersonnummerRecognizer {name}: "
        f"{len(texts)} texts, {size} B (mean {size / len(texts):.0f} B); median of {len(rounds)} rounds: "
        f"{len(texts) / median:.0f} texts/s, {size / median / 1e6:.1f} MB/s ({median / len(texts) * 1e6:.2f} µs a text)"
    )


def check(directory):
    """What Presidio takes for a personnummer, against what was written into the corpora."""
    recognizer = SePersonnummerRecognizer()
    for name in ["prompts", "documents"]:
        texts = load(directory, name)
        with open(f"{directory}/{name}.truth.jsonl", encoding="utf-8") as lines:
            truths = [json.loads(line) for line in lines]
        written = found = other = ambiguous = ambiguous_taken = 0
        missed_forms = {}
        for text, truth in zip(texts, truths):
            left = list(truth["identities"])
            left_ambiguous = list(truth["ambiguous"])
            written += len(left)
            ambiguous += len(left_ambiguous)
            for r in recognizer.analyze(text, entities=recognizer.supported_entities, nlp_artifacts=None):
                taken = text[r.start : r.end]
                if taken in left:
                    left.remove(taken)
                    found += 1
                elif taken in left_ambiguous:
                    left_ambiguous.remove(taken)
                    ambiguous_taken += 1
                else:
                    other += 1
            for missed in left:
                form = "".join("9" if c.isdigit() else c for c in missed)
                missed_forms[form] = missed_forms.get(form, 0) + 1
        print(
            f"{name}: {written} identity numbers written, {found} found; {other} other numbers taken for one; "
            f"{ambiguous_taken} of {ambiguous} bare ten-digit phone numbers that are also valid personnummer taken for one"
        )
        print(f"  missed, by written form: {missed_forms}")


if __name__ == "__main__":
    match sys.argv[1:]:
        case ["rate", directory, name]:
            rate(directory, name, 5.0)
        case ["rate", directory, name, seconds]:
            rate(directory, name, float(seconds))
        case ["check", directory]:
            check(directory)
        case _:
            sys.exit("usage: bench.py rate DIR prompts|documents [SECONDS] | check DIR")
