"""The pages people use in a browser: sign-in, the operator workstation, the supervisor
wallboard, and the API docs with local assets. Server-rendered Jinja2 templates and a little
JavaScript that talks to the JSON API and its WebSockets."""
