"""The web chat: an embeddable widget (static/widget.js, one script tag on a site) and the server it
talks to, a WebSocket with an HTTP fallback, on `CRM_WEB_PORT` (`crm serve --web`).

Visitors are customers: each is a random id signed with `CRM_WEB_SECRET`, kept in the browser, and
their messages reach `Assistant.handle` as `Message(channel="web", customer=True)`.
"""
