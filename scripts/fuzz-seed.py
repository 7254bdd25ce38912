#!/usr/bin/env python3
"""Seeds a running chatd for one schemathesis run and writes that run's schemathesis.toml.

Called by scripts/fuzz.sh once per run, so that each run has an account of its own (the first
run's deletes cannot empty the second's rooms). Through the platform API it creates an account
(its API key), an administrator and an agent (their access tokens); through both dialects, rooms
with members and messages. The config it writes:

  - sends the run's credential on every request (`X-API-Key` or `api_access_token`);
  - gives path parameters the real ids most of the time (schemathesis "dictionaries"), so that
    requests reach the handlers' logic instead of stopping at 404; the rest of the time
    schemathesis makes up values, malformed ones included;
  - gives destructive operations (delete, deactivate) rooms of their own, so that the rooms the
    other operations use survive the run.

Standard library only: it runs in the virtualenv before or without anything else installed.

Usage: fuzz-seed.py --base-url URL --platform-token-env VAR --credential api-key|admin-token
                    --config OUT.toml
"""

import argparse
import json
import os
import sys
import urllib.error
import urllib.request


class Api:
    def __init__(self, base_url):
        self.base_url = base_url.rstrip("/")

    def call(self, method, path, headers, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        for name, value in headers.items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                raw = response.read()
        except urllib.error.HTTPError as error:
            detail = error.read().decode(errors="replace")[:500]
            sys.exit(f"fuzz-seed: {method} {path} answered {error.code}: {detail}")
        except urllib.error.URLError as error:
            sys.exit(f"fuzz-seed: {method} {path} failed: {error.reason}")
        return json.loads(raw) if raw else None


def toml_string(value):
    # JSON string escapes are valid TOML basic-string escapes for what we write.
    return json.dumps(value)


def toml_list(values):
    return "[" + ", ".join(toml_string(v) if isinstance(v, str) else str(v) for v in values) + "]"


def seed(api, platform_token, label):
    platform = {"Authorization": f"Bearer {platform_token}"}
    account = api.call("POST", "/platform/api/v1/accounts", platform, {"name": f"Fuzz {label}"})
    account_id = account["id"]
    api_key = {"X-API-Key": account["api_key"]}

    users = {}
    for role, external_id in (("administrator", "fuzz-admin"), ("agent", "fuzz-agent")):
        users[role] = api.call(
            "POST",
            f"/platform/api/v1/accounts/{account_id}/users",
            platform,
            {
                "name": f"Fuzz {role}",
                "email": f"{external_id}@example.com",
                "role": role,
                "external_id": external_id,
            },
        )
    admin_token = {"api_access_token": users["administrator"]["access_token"]}

    # Rooms made through the ChatAPI (uuid ids); the account dialect shows the same rooms with
    # integer ids, found by name below.
    rooms = {}
    for name in ("keep-1", "keep-2", "spare-1", "spare-2", "spare-3", "spare-4"):
        room = api.call("POST", "/api/v1/rooms/", api_key, {"name": name, "description": "fuzz"})
        uuid = room["data"]["id"]
        rooms[name] = {"uuid": uuid}
        for external_id in ("fuzz-admin", "fuzz-agent"):
            api.call("POST", f"/api/v1/rooms/{uuid}/join", api_key, {"user_id": external_id})

    chatapi_messages = []
    account_messages = []
    listed = api.call("GET", f"/api/v1/accounts/{account_id}/chat_rooms?per_page=100", api_key)
    for room in listed:
        if room["name"] in rooms:
            rooms[room["name"]]["id"] = room["id"]
    for name, room in rooms.items():
        if "id" not in room:
            sys.exit(f"fuzz-seed: room {name} is missing from the account dialect's list")
        for n in range(2):
            message = api.call(
                "POST",
                f"/api/v1/rooms/{room['uuid']}/messages/",
                api_key,
                {"sender_id": "fuzz-admin", "content": f"hello {n}", "echo_id": f"{name}-{n}"},
            )
            chatapi_messages.append(message["data"]["id"])
        message = api.call(
            "POST",
            f"/api/v1/accounts/{account_id}/chat_rooms/{room['id']}/messages",
            admin_token,
            {"chat_room_message": {"content": "hello from the account dialect"}},
        )
        account_messages.append(message["id"])

    return {
        "account_id": account_id,
        "api_key": account["api_key"],
        "admin_token": users["administrator"]["access_token"],
        "user_ids": [users["administrator"]["id"], users["agent"]["id"]],
        "external_ids": ["fuzz-admin", "fuzz-agent"],
        "keep_uuids": [rooms[n]["uuid"] for n in rooms if n.startswith("keep")],
        "keep_ids": [rooms[n]["id"] for n in rooms if n.startswith("keep")],
        "spare_uuids": [rooms[n]["uuid"] for n in rooms if n.startswith("spare")],
        "spare_ids": [rooms[n]["id"] for n in rooms if n.startswith("spare")],
        "chatapi_messages": chatapi_messages,
        "account_messages": account_messages,
    }


# How often a parameter takes a real value; the rest of the time schemathesis makes one up.
REAL = 0.8


def config(seeded, credential):
    if credential == "api-key":
        header = f"X-API-Key = {toml_string(seeded['api_key'])}"
    else:
        header = f"api_access_token = {toml_string(seeded['admin_token'])}"
    lines = [
        "# Written by scripts/fuzz-seed.py for one run of scripts/fuzz.sh; holds a credential.",
        "",
        "[headers]",
        header,
        "",
        "[dictionaries.accounts]",
        f"values = {toml_list([seeded['account_id']])}",
        "[dictionaries.rooms]",
        f"values = {toml_list(seeded['keep_uuids'])}",
        "[dictionaries.account_rooms]",
        f"values = {toml_list(seeded['keep_ids'])}",
        "[dictionaries.spare_rooms]",
        f"values = {toml_list(seeded['spare_uuids'])}",
        "[dictionaries.spare_account_rooms]",
        f"values = {toml_list(seeded['spare_ids'])}",
        "[dictionaries.messages]",
        f"values = {toml_list(seeded['chatapi_messages'])}",
        "[dictionaries.account_messages]",
        f"values = {toml_list(seeded['account_messages'])}",
        "[dictionaries.external_ids]",
        f"values = {toml_list(seeded['external_ids'])}",
        "[dictionaries.user_ids]",
        f"values = {toml_list(seeded['user_ids'])}",
        "",
        "[parameters]",
        f'"path.account_id" = {{ dictionary = "accounts", probability = 0.9 }}',
        f'"path.room_id" = {{ dictionary = "rooms", probability = {REAL} }}',
        f'"path.chat_room_id" = {{ dictionary = "account_rooms", probability = {REAL} }}',
        f'"path.id" = {{ dictionary = "account_rooms", probability = {REAL} }}',
        f'"path.message_id" = {{ dictionary = "messages", probability = {REAL} }}',
        '"query.sender_id" = { dictionary = "external_ids", probability = 0.5 }',
        '"body.user_id" = { dictionary = "external_ids", probability = 0.5 }',
        '"body.sender_id" = { dictionary = "external_ids", probability = 0.5 }',
        '"body.user_ids[*]" = { dictionary = "user_ids", probability = 0.5 }',
        '"body.reply_to" = { dictionary = "messages", probability = 0.5 }',
        '"body.chat_room_message.content_attributes.in_reply_to" = '
        '{ dictionary = "account_messages", probability = 0.5 }',
    ]
    # Deletes and deactivations get rooms of their own.
    for method, path, name, dictionary in (
        ("DELETE", "/api/v1/rooms/{room_id}", "room_id", "spare_rooms"),
        ("POST", "/api/v1/rooms/{room_id}/deactivate", "room_id", "spare_rooms"),
        ("DELETE", "/api/v1/accounts/{account_id}/chat_rooms/{id}", "id", "spare_account_rooms"),
    ):
        lines += [
            "",
            "[[operations]]",
            f"include-method = {toml_string(method)}",
            f"include-path = {toml_string(path)}",
            f'parameters = {{ "path.{name}" = {{ dictionary = "{dictionary}", probability = {REAL} }} }}',
        ]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--platform-token-env", required=True, help="variable holding the platform token")
    parser.add_argument("--credential", required=True, choices=["api-key", "admin-token"])
    parser.add_argument("--config", required=True, help="the schemathesis.toml to write")
    args = parser.parse_args()

    token = os.environ.get(args.platform_token_env)
    if not token:
        sys.exit(f"fuzz-seed: ${args.platform_token_env} is empty")
    seeded = seed(Api(args.base_url), token, args.credential)
    fd = os.open(args.config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(config(seeded, args.credential))


if __name__ == "__main__":
    main()
