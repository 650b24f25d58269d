wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[{"subject": {"type": "user", "id": "anna"}, "action": {"name": "use"}, "resource": {"type": "ai_system", "id": "copilot-chat"}, "context": {"data": ["intern"]}}]]
