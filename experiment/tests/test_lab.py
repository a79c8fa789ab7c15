"""Connection URLs for the experiment's database and the proxy in front of it."""

from experiment.run.lab import host_port, with_database


def test_the_database_and_the_address_are_swapped_keeping_the_rest():
    url = "postgres://u:p%40ss@db.local:5433/app?sslmode=disable"
    assert with_database(url, "postgres") == "postgres://u:p%40ss@db.local:5433/postgres?sslmode=disable"
    assert (with_database(url, "lab_experiment", host="127.0.0.1", port=5555)
            == "postgres://u:p%40ss@127.0.0.1:5555/lab_experiment?sslmode=disable")
    assert with_database("postgres://postgres@127.0.0.1:54329/postgres", "x", port=1) == "postgres://postgres@127.0.0.1:1/x"
    assert host_port("postgres://postgres@127.0.0.1:54329/postgres") == ("127.0.0.1", 54329)
