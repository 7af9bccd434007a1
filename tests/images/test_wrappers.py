"""clusters/docker.py and clusters/kind.py against stand-ins that print what the real CLIs print."""

import pytest

from clusters import docker, kind
from tests.support.bin import StandIns


def test_list_images_parses_dockers_json_lines(standins):
    images = docker.list_images()
    assert [i.reference for i in images] == ["busybox:1.36", "myenv-image:latest", "volcano-portal-agent:0.1.0"]
    myenv = images[1]
    assert (myenv.repository, myenv.tag, myenv.created, myenv.size) == (
        "myenv-image", "latest", "2025-09-18 02:53:29 +0000 UTC", "7.62GB")
    assert len(myenv.id) == 12
    assert standins.calls("docker") == [["images", "--format", "{{json .}}"]]


def test_search_matches_repository_tag_and_id(standins):
    assert [i.reference for i in docker.list_images("MYENV")] == ["myenv-image:latest"]
    assert [i.reference for i in docker.list_images(":0.1")] == ["volcano-portal-agent:0.1.0"]
    some_id = docker.list_images("busybox")[0].id
    assert [i.reference for i in docker.list_images(some_id[:6])] == ["busybox:1.36"]
    assert docker.list_images("nothing-like-this") == []


def test_image_exists(standins):
    assert docker.image_exists("busybox:1.36")
    assert not docker.image_exists("nope:1")


def test_no_docker_engine(standins):
    standins.update_state(engine="down")
    with pytest.raises(docker.DockerError, match=r"docker is installed but no Docker engine answers \(is the daemon running\?\)"):
        docker.list_images()
    with pytest.raises(kind.KindError, match="kind needs Docker, but no Docker engine answers"):
        kind.list_clusters()


def test_docker_and_kind_missing(tmp_path, monkeypatch):
    tools = StandIns(tmp_path, missing={"docker", "kind"})
    monkeypatch.setenv("PATH", tools.path)
    with pytest.raises(docker.DockerError, match="Docker is not installed on the portal's server"):
        docker.list_images()
    with pytest.raises(kind.KindError, match="kind is not installed on the portal's server"):
        kind.list_clusters()


def test_a_hung_docker_times_out(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "docker").write_text("#!/bin/sh\nexec sleep 30\n")
    (bin_dir / "docker").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    monkeypatch.setattr(docker, "TIMEOUT", 0.5)
    with pytest.raises(docker.DockerError, match=r"docker images did not finish within 0.5 s"):
        docker.list_images()


def test_kind_clusters(standins):
    assert kind.list_clusters() == ["lab"]
    standins.update_state(clusters={})
    assert kind.list_clusters() == []  # kind says "No kind clusters found." on stderr, exit 0


def test_load_image_streams_kinds_lines(standins):
    lines = []
    kind.load_image("busybox:1.36", "lab", lines.append)
    assert len(lines) == 4 and all("not yet present on node" in line for line in lines)
    assert standins.calls("kind") == [["load", "docker-image", "busybox:1.36", "--name", "lab"]]
    lines.clear()
    kind.load_image("busybox:1.36", "lab", lines.append)
    assert lines == [line for line in lines if "already present on all nodes" in line] and lines


def test_load_image_errors_are_sentences(standins):
    with pytest.raises(kind.KindError, match='kind load docker-image failed: ERROR: image: "nope:1" not present locally'):
        kind.load_image("nope:1", "lab", lambda line: None)
    with pytest.raises(kind.KindError, match='no nodes found for cluster "gone"'):
        kind.load_image("busybox:1.36", "gone", lambda line: None)


def test_stream_stops_a_command_that_runs_too_long(tmp_path):
    with pytest.raises(kind.KindError, match="did not finish within 0.3 s and was stopped"):
        kind.stream(["sleep", "20"], lambda line: None, timeout=0.3)
