"""C0, the stack's floor: a bare Flask route returning constant JSON, served by the same
gunicorn configuration as the service (`bench/load.py` runs it beside every scenario)."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def constant():
    return {"status": "ok"}
