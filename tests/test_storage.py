"""Storage details not covered by the landing and S3 tests: file modes of atomic writes."""

from __future__ import annotations


def test_written_files_get_the_mode_of_a_normal_file_not_mkstemps_0600(tmp_path):
    import os
    import stat

    from erenhot.storage import FILE_MODE, Storage

    st = Storage(str(tmp_path))
    st.write_bytes("products/t02/k/a.bin", b"x")
    with st.writer("products/t02/k/b.bin") as fh:
        fh.write(b"y")
    for name in ("a.bin", "b.bin"):
        mode = stat.S_IMODE(os.stat(tmp_path / "products/t02/k" / name).st_mode)
        assert mode == FILE_MODE and mode & stat.S_IRGRP, oct(mode)
