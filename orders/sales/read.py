"""Reads of the sales figures: stored summaries plus the ledger entries they do not hold yet
(docs/sales-summaries.md, "Reading"). Nothing here writes."""

from shopsite.errors import BackendUnavailable
from shopsite.timeutil import shop_zone

from . import store
from .figures import CUSTOMER, add, entry_effects, in_order
from .fold import cancelled_ids, customer_times, is_current


class Rebuilding(BackendUnavailable):
    """The summaries are being (re)built: reads answer 503 with Retry-After until they are."""

    def __init__(self):
        super().__init__("sales figures", "being rebuilt from the orders; retry shortly")


class Reader:
    """One exact read: the stored summaries first, then the ledger entries they may lack, each
    added to a summary whose `pass` is below the entry's."""

    def __init__(self):
        self.state = store.state()
        if not is_current(self.state):
            raise Rebuilding()
        self.docs: dict[tuple[str, str], dict | None] = {}
        self.passes: dict[tuple[str, str], int] = {}
        self.parents: set[tuple[str, str]] = set()  # (kind, prefix): every key under it is read

    def get_each(self, kind: str, keys) -> dict[str, dict | None]:
        found = store.get_each(kind, keys)
        for key in keys:
            self._keep(kind, key, found.get(key))
        return {key: found.get(key) for key in keys}

    def find(self, kind: str, parent: str) -> None:
        for where in [w for w in self.docs if w[0] == kind and w[1].startswith(parent)]:
            del self.docs[where]  # read again: the entries are added to it again
        self.parents.add((kind, parent))
        for key, doc in store.find(kind, parent).items():
            self._keep(kind, key, doc)

    def _keep(self, kind, key, doc) -> None:
        self.docs[(kind, key)] = doc
        self.passes[(kind, key)] = doc.get("pass", 0) if doc else 0

    def _covers(self, kind: str, key: str) -> bool:
        return (kind, key) in self.docs or any(
            kind == k and key.startswith(parent) for k, parent in self.parents
        )

    def finish(self) -> "Reader":
        """Add the entries not yet in the summaries read (see the module docstring)."""
        self._fetch()
        self._apply(set(self.docs) | {("*", "*")})
        return self

    def more(self, *, finds=(), gets=()) -> None:
        """Read more summaries after `finish` (finds: (kind, parent); gets: (kind, keys) not read
        yet): exact by the same rule, the entries fetched again only if a pass started meanwhile."""
        before = set(self.docs)
        for kind, parent in finds:
            self.find(kind, parent)
        for kind, keys in gets:
            self.get_each(kind, keys)
        if store.state()["next"] != self.last:
            self._fetch()
        self._apply((set(self.docs) - before) | {(kind, "*" + parent) for kind, parent in finds})

    def _fetch(self) -> None:
        # Untaken entries first, then `next`: an entry a pass takes after the first query was
        # untaken in it; one taken before it belongs to a pass below the `next` read after.
        entries = {entry["_id"]: entry for entry in store.unfolded()}
        self.last = store.state()["next"]
        for number in range(self.state.get("done", 0) + 1, self.last):
            entries.update((entry["_id"], entry) for entry in store.folded_in(number))
        self.entries = in_order(entries.values())

    def _apply(self, only: set) -> None:
        """Add the fetched entries to the summaries in `only` ((kind, key); (kind, "*" + parent):
        any key under it; ("*", "*"): every summary covered)."""
        every = ("*", "*") in only
        parents = {(kind, key[1:]) for kind, key in only if key.startswith("*")}
        zone = shop_zone()
        stale = set()
        for entry in self.entries:
            entry_pass = entry.get("pass") or self.last + 1  # not stamped yet: in no summary
            for effect in entry_effects(entry, zone):
                where = (effect.kind, effect.key)
                wanted = (
                    every
                    or where in only
                    or any(
                        effect.kind == kind and effect.key.startswith(parent)
                        for kind, parent in parents
                    )
                )
                if not wanted or not self._covers(*where):
                    continue
                if self.passes.get(where, 0) >= entry_pass:
                    continue
                self.docs[where] = add(effect.kind, self.docs.get(where), effect.delta)
                if effect.kind == CUSTOMER and self.docs[where].pop("stale_times", False):
                    stale.add(where)
        for where in stale:
            customer_times(where[1], self.docs[where], cancelled_ids(self.entries))

    def of(self, kind: str, key: str) -> dict | None:
        return self.docs.get((kind, key))

    def under(self, kind: str, parent: str) -> dict[str, dict]:
        return {
            key: doc
            for (k, key), doc in self.docs.items()
            if k == kind and key.startswith(parent) and doc
        }


# --- customers -----------------------------------------------------------------------------------


def customer(name: str) -> dict | None:
    with store.stats_reads():
        return _customer(name)


def _customer(name: str) -> dict | None:
    """A customer's figures over all their orders that are not cancelled; None if none."""
    reader = Reader()
    reader.get_each(CUSTOMER, [name])
    doc = reader.finish().of(CUSTOMER, name)
    if not doc or doc.get("orders", 0) <= 0:
        return None
    return doc
