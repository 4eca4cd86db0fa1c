"""The ceiling for bench/api.py: the smallest Flask JSON endpoint, served with the forum's server settings."""
from flask import Flask

app = Flask(__name__)


@app.get("/ping.json")
def ping():
    return {"ok": True}
