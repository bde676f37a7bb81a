"""The desk: everything people do with tickets, as one service (see the modules it is made of).

* :mod:`desk.lifecycle`: open, route, SLA sweeps, claim, reply, note, hand back, close;
* :mod:`desk.views`: the queue and ticket details experts and admins see;
* :mod:`desk.intake`: hotline agents opening tickets for callers;
* :mod:`desk.drafts`: expert replies reviewed into knowledge-base entries.

Every operation is one database transaction and leaves an audit entry.
"""

from __future__ import annotations

from desk.drafts import DraftWorkflow
from desk.intake import HotlineIntake
from desk.lifecycle import RESOLUTIONS, STATUS_LABELS, Actor, aware
from desk.views import TicketViews

__all__ = ["RESOLUTIONS", "STATUS_LABELS", "Actor", "Desk", "aware"]


class Desk(TicketViews, HotlineIntake, DraftWorkflow):
    """The desk service the gateway, the consultation and the CLI use."""
