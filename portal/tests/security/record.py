"""Print the outcomes recorded by `AUTHZ_MATRIX_RECORD=… pytest portal/tests/security` as rows of
`authz_table.py`, compacted: the most common outcome of the signed-in subjects becomes "*"."""

import json
import sys
from collections import Counter
from typing import Any

NAMES = {
    "member": "M",
    "director": "D",
    "elexon_analyst": "ANALYST",
    "qsp": "QSP",
    "testing_assurance": "TA",
    "programme_assurance": "PROG",
    "dip_manager": "DIPM",
    "rec_code_manager": "REC",
    "pab_secretary": "SEC",
    "pab_chair": "CHAIR",
    "pab_member": "PABM",
    "service_activation": "SA",
    "administrator": "ADMIN",
    "anonymous": "ANON",
}
ANONYMOUS = "anonymous"
# The order of world.SUBJECTS (this script runs without Django).
SUBJECTS = [ANONYMOUS, *[name for name in NAMES if name != ANONYMOUS]]
GROUPS = {"P": ("member", "director"), "*PAB": ("pab_secretary", "pab_chair", "pab_member")}


def compact(outcomes: dict[str, Any], anonymous: Any) -> str:
    signed_in = [s for s in SUBJECTS if s != ANONYMOUS]
    rest, _ = Counter(outcomes[s] for s in signed_in).most_common(1)[0]
    by_outcome: dict[Any, list[str]] = {}
    for subject in SUBJECTS:
        outcome = outcomes[subject]
        if subject == ANONYMOUS and outcome == anonymous:
            continue
        if subject != ANONYMOUS and outcome == rest:
            continue
        by_outcome.setdefault(outcome, []).append(subject)
    parts = []
    for outcome, subjects in by_outcome.items():
        names = []
        remaining = list(subjects)
        for group, members in GROUPS.items():
            if all(m in remaining for m in members):
                names.append(group.lstrip("*"))
                remaining = [m for m in remaining if m not in members]
        names += [NAMES[s] for s in remaining]
        key = {"login": "LOGIN", "ok": "OK"}.get(outcome, str(outcome))
        who = names[0] if len(names) == 1 and names[0] != "P" and names[0] != "PAB" else f"({', '.join(names)},)"
        if len(names) == 1 and names[0] in {"P", "PAB"}:
            who = names[0]
        parts.append(f"{key}: {who}")
    parts.append(f'"*": {({"login": "LOGIN", "ok": "OK"}).get(rest, rest)}')
    return "{" + ", ".join(parts) + "}"


def main(path: str) -> None:
    web, api = [], []
    with open(path, encoding="utf-8") as lines:
        entries = [json.loads(line) for line in lines]
    for entry in entries:
        observed = entry["observed"]
        if entry["kind"] == "web":
            get = compact(observed["GET"], "login")
            post = compact(observed["POST"], "login")
            web.append(f'    "{entry["name"]}": {{"get": {get}, "post": {post}}},')
        else:
            ((method, outcomes),) = observed.items()
            api.append(f'    "{entry["name"].removeprefix("api:")}": {compact(outcomes, 401)},  # {method}')
    print("WEB: dict[str, dict[str, Any]] = {")
    print("\n".join(web))
    print("}")
    print("API: dict[str, Any] = {")
    print("\n".join(api))
    print("}")


if __name__ == "__main__":
    main(sys.argv[1])
