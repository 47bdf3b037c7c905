"""Who may use the web app. On the loopback address it is the owner's own machine; on any other address the
server refuses to start without accounts, so nobody on the network can retrain or swap the model.

Accounts are `user:password` lines in a file (`--auth-file`, or `$ROBOT_AUTH_FILE`), or one `user:password` in
`$ROBOT_AUTH`: never a password on the command line, where other users of the machine can read it. Endpoints
that change the robot (train, validate, activate, roll back, corrections) are on the API only for signed-in
clients; without accounts the page alone can use them.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from robot.errors import InputError
from robot.userfiles import read_limited

MAX_ACCOUNTS_BYTES = 1 << 20
HOST, PORT = "127.0.0.1", 7860  # where `robot serve` listens unless told otherwise: this machine only


@dataclass(frozen=True)
class Access:
    accounts: tuple[tuple[str, str], ...] = ()

    @property
    def changes(self) -> str:
        """Gradio's api_visibility for the endpoints that change the robot."""
        return "public" if self.accounts else "private"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name other than localhost may resolve anywhere
        return False


def parse_accounts(text: str, where: str) -> tuple[tuple[str, str], ...]:
    accounts = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        user, sep, password = line.strip().partition(":")
        if not sep or not user or not password:
            raise InputError(f"{where}, line {number}: expected user:password")
        accounts.append((user, password))
    if not accounts:
        raise InputError(f"{where}: no accounts (one user:password a line)")
    return tuple(accounts)


def read_access(auth_file: Path | None = None) -> Access:
    """Accounts from the file given, else `$ROBOT_AUTH_FILE`, else `$ROBOT_AUTH`; none when nothing is set."""
    path = auth_file or (Path(os.environ["ROBOT_AUTH_FILE"]) if os.environ.get("ROBOT_AUTH_FILE") else None)
    if path is not None:
        try:
            text = read_limited(path, MAX_ACCOUNTS_BYTES).decode("utf-8")
        except InputError as exc:
            raise InputError(f"cannot read the accounts file ({exc.detail})", path=path) from None
        except UnicodeDecodeError:
            raise InputError("cannot read the accounts file (not UTF-8 text)", path=path) from None
        return Access(parse_accounts(text, str(path)))
    if os.environ.get("ROBOT_AUTH"):
        return Access(parse_accounts(os.environ["ROBOT_AUTH"], "$ROBOT_AUTH"))
    return Access()


def check_exposure(host: str, access: Access) -> None:
    if not access.accounts and not is_loopback(host):
        raise InputError(f"refusing to serve on {host} without accounts: anyone who can reach it could retrain "
                         "and swap the model. Give --auth-file FILE (user:password lines), $ROBOT_AUTH_FILE or "
                         "$ROBOT_AUTH=user:password, or serve on 127.0.0.1")
