"""The webhook host allow-list (PLANT_ASSETS_WEBHOOK_ALLOWED_HOSTS): loopback only by default."""

from __future__ import annotations

from plant_assets.core.webhook_hosts import allowed_webhook_hosts, webhook_refusal


def test_default_allows_loopback_only(monkeypatch):
    monkeypatch.delenv("PLANT_ASSETS_WEBHOOK_ALLOWED_HOSTS", raising=False)
    assert allowed_webhook_hosts() == {"127.0.0.1", "localhost", "::1"}
    assert webhook_refusal("http://127.0.0.1:8080/alerts") is None
    assert webhook_refusal("http://[::1]:8080/alerts") is None
    assert webhook_refusal("https://LOCALHOST/alerts") is None
    assert webhook_refusal("http://169.254.169.254/latest/meta-data") == (
        "webhook host '169.254.169.254' is not allowed: add it to PLANT_ASSETS_WEBHOOK_ALLOWED_HOSTS "
        "(now: 127.0.0.1, ::1, localhost) if it is your alert receiver")


def test_configured_hosts_and_sub_domains(monkeypatch):
    monkeypatch.setenv("PLANT_ASSETS_WEBHOOK_ALLOWED_HOSTS", "alerts.example.com, *.ops.example.com")
    assert webhook_refusal("https://alerts.example.com/hook") is None
    assert webhook_refusal("https://teams.ops.example.com/hook") is None
    assert webhook_refusal("https://ops.example.com.evil.net/hook") is not None
    assert webhook_refusal("http://127.0.0.1/hook") is not None, "setting the list replaces the loopback default"


def test_non_http_urls_are_refused():
    assert webhook_refusal("file:///etc/passwd", {"localhost"}) == \
        "webhook URL 'file:///etc/passwd' is not an http(s) URL with a host"
    assert webhook_refusal("http://[::1/x", {"::1"}) == "webhook URL 'http://[::1/x' cannot be parsed"
