"""`omnilake privacy forget|vacuum` (jobs/orchestration/privacy.py). Imports stay inside the commands."""

from __future__ import annotations

import argparse
from pathlib import Path

from jobs.common.config import Config
from jobs.common.errors import UserError

BY_CHOICES = ("customer-id", "token", "email", "phone", "member-id")


def cmd_forget(cfg: Config, args: argparse.Namespace) -> int:
    """Erase one subject (--customer [--by]) or every request of a CSV file (--requests)."""
    from jobs.orchestration.privacy import Request, forget, read_requests

    if (args.customer is None) == (args.requests is None):
        raise UserError("give either --customer ID [--by KIND] or --requests FILE")
    if args.requests is not None:
        requests = read_requests(Path(args.requests))
    else:
        requests = [Request(args.request_id, args.by, args.customer)]
    for outcome in forget(cfg, requests):
        print(outcome.summary() if outcome.recorded else f"forget {outcome.request_id}: nothing left to erase")
    return 0


def cmd_vacuum(cfg: Config, args: argparse.Namespace) -> int:
    """Purge the history of the tables touched by requests whose retention has passed."""
    from jobs.orchestration.privacy import vacuum_requests

    done = vacuum_requests(cfg)
    print(
        f"privacy vacuum: {done['requests']} request(s) past {cfg.privacy.vacuum_retention_hours} h, "
        f"{len(done['tables'])} table(s) vacuumed and their logs cut"
    )
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add `privacy forget|vacuum` to the `omnilake` command's sub-parsers."""
    privacy = sub.add_parser("privacy", help="erasure requests (right to be forgotten), audited")
    actions = privacy.add_subparsers(dest="action", required=True)
    fgt = actions.add_parser("forget", help="remove a person from every zone, the exports and the models")
    fgt.add_argument("--customer", metavar="ID", help="the identifier of the person (see --by)")
    fgt.add_argument(
        "--by",
        choices=BY_CHOICES,
        default="customer-id",
        help="what --customer is: omnilake's customer_id (default), a PII token, a raw email or phone, a CRM member id",
    )
    fgt.add_argument("--request-id", help="the request's id in ops.privacy_requests (default: from the subject hash)")
    fgt.add_argument("--requests", metavar="FILE", help="a CSV of requests with the header request_id,by,value")
    fgt.set_defaults(fn=cmd_forget)
    vac = actions.add_parser(
        "vacuum", help="VACUUM and cut the log of the tables forgets touched, once conf privacy retention has passed"
    )
    vac.set_defaults(fn=cmd_vacuum)
