wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[{"user": "anna", "ai": "copilot-chat", "data": "intern"}]]
