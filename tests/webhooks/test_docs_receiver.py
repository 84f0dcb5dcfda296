"""The receiver's verification snippet in docs/webhooks.md works on a real delivery."""

from __future__ import annotations

import re
from pathlib import Path

from .conftest import Receiver, Setup, wait_for

DOC = (Path(__file__).parents[2] / "docs/webhooks.md").read_text()


def _snippet() -> dict[str, object]:
    section = DOC.split("### Verifying deliveries", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    namespace: dict[str, object] = {}
    exec(compile(code.group(1), "docs/webhooks.md", "exec"), namespace)  # noqa: S102 - our own documentation
    return namespace


def test_the_documented_verification_accepts_a_delivery_and_refuses_a_tampered_one(setup: Setup,
                                                                                    receiver: Receiver) -> None:
    verify = _snippet()["verify_apideck_signature"]
    setup.subscribe(receiver, "hook")
    setup.baseline()
    with setup.tickets() as client:
        assert client.post(setup.tickets_path, json={"subject": "Documented"}).status_code == 201
    [delivery] = wait_for(lambda: receiver.delivered("hook"))
    secret, signature = receiver.secrets["/hook"], delivery["headers"]["x-apideck-signature"]
    assert verify(delivery["raw"], signature, secret) is True  # type: ignore[operator]
    assert verify(delivery["raw"].replace(b"ticket", b"TICKET"), signature, secret) is False  # type: ignore[operator]
