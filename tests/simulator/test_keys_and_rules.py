"""Keys, participants (GET/PUT /_sim/participants) and the code rules served."""

from __future__ import annotations

import json

from contracts import signing
from tests.simulator.conftest import Wallet, make_app


def test_first_start_creates_keys_and_the_default_mpp(tmp_path):
    app = make_app(tmp_path / "d")
    sim = app.extensions["aplus_sim"]
    keys = tmp_path / "d" / "keys"
    mpp = keys / sim.config.default_client_id
    for path in (
        keys / "simulator_private_key.pem",
        keys / "simulator_public_key.txt",
        mpp / "private_key.pem",
        mpp / "private_key.txt",
        mpp / "public_key.txt",
    ):
        assert path.exists(), path
    assert oct((mpp / "private_key.pem").stat().st_mode & 0o777) == "0o600"
    # the bare base64 private key is what the SDKs take, and it matches the registered key
    private = signing.load_private_key((mpp / "private_key.txt").read_text())
    registered = sim.keys.participant(sim.config.default_client_id)["publicKey"]
    assert signing.public_key_base64(private) == registered
    assert registered == (mpp / "public_key.txt").read_text().strip()
    assert sim.keys.public_key_base64 == (keys / "simulator_public_key.txt").read_text().strip()


def test_a_restart_keeps_the_same_keys_and_ids(tmp_path):
    first = make_app(tmp_path / "d").extensions["aplus_sim"]
    second = make_app(tmp_path / "d").extensions["aplus_sim"]
    assert first.keys.public_key_base64 == second.keys.public_key_base64
    client_id = first.config.default_client_id
    assert first.keys.participant(client_id) == second.keys.participant(client_id)


def test_keys_endpoint(client, sim):
    body = client.get("/_sim/keys").get_json()
    assert body["publicKey"] == sim.keys.public_key_base64
    assert body["publicKeyPem"].startswith("-----BEGIN PUBLIC KEY-----")
    assert signing.load_public_key(body["publicKey"]) is not None
    assert body["defaultClientId"] == sim.config.default_client_id


def test_participant_fields_are_exactly_the_binding_names(client, sim):
    body = client.get(f"/_sim/participants/{sim.config.default_client_id}").get_json()
    assert set(body) == {
        "clientId",
        "pspId",
        "acquirerId",
        "publicKey",
        "walletCurrency",
        "cashierUrl",
        "inquiryPaymentUrl",
        "cancelPaymentUrl",
        "refundUrl",
        "signatureMode",
    }
    assert body["signatureMode"] == "strict"
    assert body["cashierUrl"] == "http://wallet.test/cashier"
    assert body["inquiryPaymentUrl"] == "http://wallet.test/aps/api/v1/payments/inquiryPayment"
    assert body["cancelPaymentUrl"] == "http://wallet.test/aps/api/v1/payments/cancelPayment"
    assert body["refundUrl"] == "http://wallet.test/aps/api/v1/payments/refund"


def test_register_a_wallet_with_a_pem_key_and_use_it(app, client):
    key = signing.generate_private_key()
    response = client.put(
        "/_sim/participants/SANDBOX_MY_WALLET",
        json={
            "publicKey": signing.public_key_pem(key),
            "walletCurrency": "PHP",
            "cashierUrl": "https://my.wallet/cashier",
            "pspId": "PSP_MINE",
        },
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["publicKey"] == signing.public_key_base64(key)  # stored as bare base64
    assert body["walletCurrency"] == "PHP" and body["pspId"] == "PSP_MINE"
    answer = Wallet(app, "SANDBOX_MY_WALLET", key).call("inquiryCodeRules", {})
    assert answer.code == "SUCCESS"
    # a later PUT changes only what it names
    client.put("/_sim/participants/SANDBOX_MY_WALLET", json={"signatureMode": "off"})
    again = client.get("/_sim/participants/SANDBOX_MY_WALLET").get_json()
    assert again["signatureMode"] == "off" and again["walletCurrency"] == "PHP"


def test_bad_participant_fields_are_refused(client):
    for body, words in [
        ({"publicKey": "not a key"}, "publicKey"),
        ({"walletCurrency": "EURO"}, "walletCurrency"),
        ({"signatureMode": "lenient"}, "signatureMode"),
        ({"cashierUrl": "/relative"}, "cashierUrl"),
        ({"colour": "blue"}, "unknown field"),
    ]:
        response = client.put("/_sim/participants/X", json=body)
        assert response.status_code == 400, body
        assert words in response.get_json()["error"]
    assert client.put("/_sim/participants/X", data=b"{oops").status_code == 400
    assert client.get("/_sim/participants/X").status_code == 404


def test_inquiry_code_rules_serves_the_default_set(wallet, client):
    answer = wallet.call("inquiryCodeRules", {})
    served = client.get("/_sim/code-rules").get_json()
    assert answer.body["version"] == served["version"]
    assert answer.body["codeRules"] == served["codeRules"]
    assert any(
        r["codeMatchPattern"].get("prefix") == "https://qr.alipayplus.com/28166613"
        for r in answer.body["codeRules"]
    )


def test_put_code_rules_replaces_them_with_a_new_version(wallet, client):
    old = client.get("/_sim/code-rules").get_json()["version"]
    rule = {
        "codeMatchPattern": {"matchMethod": "PREFIX", "prefix": "MYCODE"},
        "postCodeMatchAction": {"postCodeMatchActionType": "DECODE"},
    }
    response = client.put("/_sim/code-rules", json={"codeRules": [rule]})
    assert response.status_code == 200
    new = response.get_json()["version"]
    assert new != old
    answer = wallet.call("inquiryCodeRules", {})
    assert answer.body["version"] == new and answer.body["codeRules"] == [rule]
    named = client.put("/_sim/code-rules", json={"codeRules": [rule], "version": "v42"})
    assert named.get_json()["version"] == "v42"
    same = client.put("/_sim/code-rules", json={"codeRules": [rule], "version": "v42"})
    assert same.status_code == 400 and "version" in same.get_json()["error"]


def test_bad_code_rules_are_refused(client):
    response = client.put(
        "/_sim/code-rules", json={"codeRules": [{"codeMatchPattern": {"matchMethod": "GUESS"}}]}
    )
    assert response.status_code == 400
    assert client.put("/_sim/code-rules", json={"rules": []}).status_code == 400


def test_empty_body_is_fine_for_inquiry_code_rules(wallet):
    path = "/aps/api/v1/codes/inquiryCodeRules"
    answer = wallet.send(path, b"", wallet.headers(path, b""))
    assert answer.code == "SUCCESS"
    assert json.loads(answer.text)["version"]


def test_health_and_openapi(client, sim):
    health = client.get("/_sim/health").get_json()
    assert health["status"] == "ok" and health["clock"] == "virtual"
    assert health["storage"].startswith("sqlite:///")
    document = client.get("/_sim/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    assert "/aps/api/v1/payments/userInitiatedPay" in document["paths"]


def test_any_sqlalchemy_url_selects_the_storage(tmp_path, key_files, client):
    import shutil

    shutil.copytree(key_files, tmp_path / "elsewhere" / "keys")
    url = f"sqlite:///{tmp_path / 'other.sqlite'}"
    app = make_app(tmp_path / "elsewhere", db_url=url)
    assert app.test_client().get("/_sim/health").get_json()["storage"] == url
    assert (tmp_path / "other.sqlite").exists()
    assert not (tmp_path / "elsewhere" / "aplus-sim.db").exists()
    app.extensions["aplus_sim"].engine.dispose()
