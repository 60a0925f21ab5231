"""HTTP adapter: FastAPI routers (thin), schemas, auth, WebSocket, static web UI."""
