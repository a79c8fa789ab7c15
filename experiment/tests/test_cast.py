"""The asciinema cast k6's terminal is recorded in."""

import json

from experiment.model.cast import CastWriter, read_cast


def test_a_written_cast_reads_back_as_its_header_and_output_events(tmp_path):
    path = tmp_path / "k6.cast"
    cast = CastWriter(path, width=110, height=32, title="k6: Act I")
    cast.write("$ k6 run\r\n")
    cast.write("")  # nothing to show: no event
    cast.write("running \u2588\u2588 50%\r")
    cast.close()
    with path.open("a") as handle:  # input events (asciinema's "i") are not screen output
        handle.write(json.dumps([9.5, "i", "q"]) + "\n\n")
    header, events = read_cast(path)
    assert (header["version"], header["width"], header["height"], header["title"]) == (2, 110, 32, "k6: Act I")
    assert [text for _, text in events] == ["$ k6 run\r\n", "running \u2588\u2588 50%\r"]
    assert 0 <= events[0][0] <= events[1][0]
