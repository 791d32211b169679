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


def _key():
    private = envelope.generate_private_key()
    return envelope.public_key_of(private).kid, envelope.quick_key(private)


def test_each_record_is_a_line_of_its_own_so_no_line_tells_how_many_came_together(tmp_path):
    # One line per save told the batch size by its length (464, 891, 1318 characters
    # for one, two, three records) without any key.
    kid, key = _key()
    copies = QuickCopies(tmp_path)
    copies.append(kid, key, [("r1", "话", ""), ("r2", "话", ""), ("r3", "话", "")])
    copies.append(kid, key, [("r4", "话", "")])
    lines = [line for line in copies.path(kid).read_text().split("\n") if line]
    assert len(lines) == 4 and len({len(line) for line in lines}) == 1
    assert [len(envelope.quick_open(key, kid, line)) for line in lines] == [1, 1, 1, 1]


def test_a_file_of_the_grouped_layout_is_removed_at_the_next_read(tmp_path):
    # v2 files kept one line per upload: their grouping stays in every backup unless the
    # file goes. Its records are opened again from their envelopes.
    kid, key = _key()
    copies = QuickCopies(tmp_path)
    copies.dir.mkdir(mode=0o700)
    grouped = copies.dir / f"{kid}.v2.log"
    grouped.write_text(envelope.quick_seal(key, kid, [("r1", "话", ""), ("r2", "话", "")]) + "\n")
    assert copies.read(kid, key) == ({}, 0)
    assert not grouped.exists()
