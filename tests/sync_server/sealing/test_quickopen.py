"""The quick-open copies on disk (`quickopen.py`): what is kept, and what is not."""

from __future__ import annotations

from sync_server.sealing import envelope
from sync_server.sealing.quickopen import QuickCopies


def test_an_unpadded_v1_quick_copy_is_removed_not_kept_beside_the_new_one(tmp_path):
    # v1 lines told a record's exact length; they no longer open, so they are deleted
    # at the next read instead of staying on the disk (and in every backup) for good.
    private = envelope.generate_private_key()
    kid, key = envelope.public_key_of(private).kid, envelope.quick_key(private)
    copies = QuickCopies(tmp_path)
    copies.dir.mkdir(mode=0o700)
    legacy = copies.dir / f"{kid}.log"
    legacy.write_text("AAAA\n")
    copies.append(kid, key, [("r1", "话", "")])
    assert copies.read(kid, key) == ({"r1": ("话", "")}, 0)
    assert not legacy.exists()
