"""download.py: fetching the MNIST files from mirrors and verifying them."""

import hashlib
import http.server
import os
import pathlib
import shutil
import socket
import stat
import threading

import pytest

from mnist_tf1.cli.errors import UserError
from mnist_tf1.data import download

SMALL = 't10k-labels-idx1-ubyte.gz'  # 4542 bytes: quick to copy around.


def sha256(path):
    return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """No test may reach the real mirrors, whatever the environment says."""
    monkeypatch.delenv(download.SOURCE_URL_ENV, raising=False)
    monkeypatch.setattr(download, 'DEFAULT_MIRRORS',
                        ('http://127.0.0.1:9/unreachable/',))


@pytest.fixture
def bad_source(tmp_path):
    """A folder holding a wrong file under every MNIST name."""
    folder = tmp_path / 'bad_source'
    folder.mkdir()
    for name in download.FILES:
        (folder / name).write_bytes(b'<html>Not the file you want</html>')
    return str(folder)


@pytest.fixture
def http_mirror(mnist_source_dir):
    """A local HTTP server: /good/ serves MNIST, /missing/ answers 404,
    /huge/ sends more bytes than the real file."""

    class Handler(http.server.BaseHTTPRequestHandler):

        def do_GET(self):  # noqa: N802 (the http.server API)
            prefix, _, name = self.path.strip('/').partition('/')
            if prefix == 'good' and name in download.FILES:
                body = pathlib.Path(mnist_source_dir, name).read_bytes()
            elif prefix == 'huge':
                body = b'\0' * (download.SIZES[name] + 100000)
            else:
                self.send_error(404, 'Not Found')
                return
            self.send_response(200)
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield 'http://127.0.0.1:%d/' % server.server_address[1]
    server.shutdown()
    server.server_close()


def test_pinned_digests_match_the_real_files(mnist_source_dir):
    assert set(download.FILES) == set(download.SIZES)
    for name, digest in download.FILES.items():
        path = os.path.join(mnist_source_dir, name)
        assert sha256(path) == digest
        assert os.path.getsize(path) == download.SIZES[name]


def test_file_url_download_verifies_and_renames(mnist_source_dir, tmp_path,
                                                capsys):
    work = tmp_path / 'new' / 'data'  # Created on the way.
    url = pathlib.Path(mnist_source_dir).as_uri() + '/'
    for name in download.FILES:
        path = download.maybe_download(name, str(work), source_url=url)
        assert path == str(work / name)
        assert sha256(path) == download.FILES[name]
    # Only the four files: no temporary file is left behind.
    assert sorted(os.listdir(work)) == sorted(download.FILES)
    out = capsys.readouterr().out
    for name, size in download.SIZES.items():
        assert 'Successfully downloaded %s %d bytes.' % (name, size) in out
    # Not left private the way mkstemp creates its files.
    assert os.stat(work / SMALL).st_mode & stat.S_IRUSR
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(os.stat(work / SMALL).st_mode) == 0o666 & ~umask


def test_plain_directory_source(mnist_source_dir, tmp_path):
    path = download.maybe_download(SMALL, str(tmp_path), mnist_source_dir)
    assert sha256(path) == download.FILES[SMALL]
    assert os.listdir(tmp_path) == [SMALL]


def test_existing_good_file_is_used_without_downloading(tmp_path,
                                                        mnist_source_dir,
                                                        capsys):
    shutil.copy(os.path.join(mnist_source_dir, SMALL), tmp_path / SMALL)
    # The sources would fail: they are not even tried.
    path = download.maybe_download(SMALL, str(tmp_path),
                                   source_url=str(tmp_path / 'nowhere'))
    assert path == str(tmp_path / SMALL)
    assert 'Successfully' not in capsys.readouterr().out


def test_mirror_fallback(mnist_source_dir, tmp_path, capsys):
    missing = str(tmp_path / 'no_such_dir')
    work = tmp_path / 'data'
    path = download.maybe_download(SMALL, str(work),
                                   source_url=[missing, mnist_source_dir])
    assert sha256(path) == download.FILES[SMALL]
    assert os.listdir(work) == [SMALL]
    captured = capsys.readouterr()
    assert missing in captured.err  # The failed mirror is reported.
    assert 'Successfully downloaded %s 4542 bytes.' % SMALL in captured.out


def test_default_mirrors_are_tried_in_order(monkeypatch, mnist_source_dir,
                                            tmp_path):
    monkeypatch.setattr(download, 'DEFAULT_MIRRORS',
                        (str(tmp_path / 'first'), mnist_source_dir))
    path = download.maybe_download(SMALL, str(tmp_path / 'data'))
    assert sha256(path) == download.FILES[SMALL]


def test_env_var_replaces_mirrors_and_argument_wins(monkeypatch,
                                                    mnist_source_dir,
                                                    bad_source, tmp_path):
    monkeypatch.setattr(download, 'DEFAULT_MIRRORS', (bad_source,))
    monkeypatch.setenv(download.SOURCE_URL_ENV,
                       pathlib.Path(mnist_source_dir).as_uri())
    assert download.mirrors() == [pathlib.Path(mnist_source_dir).as_uri()]
    download.maybe_download(SMALL, str(tmp_path / 'a'))
    # An explicit source wins over the environment.
    with pytest.raises(UserError) as e:
        download.maybe_download(SMALL, str(tmp_path / 'b'),
                                source_url=bad_source)
    assert bad_source in str(e.value)


def test_wrong_content_from_a_mirror_is_rejected_and_removed(
        bad_source, mnist_source_dir, tmp_path, capsys):
    work = tmp_path / 'data'
    path = download.maybe_download(SMALL, str(work),
                                   source_url=[bad_source, mnist_source_dir])
    assert sha256(path) == download.FILES[SMALL]
    assert os.listdir(work) == [SMALL]
    assert 'wrong content' in capsys.readouterr().err


def test_all_mirrors_fail_one_line(bad_source, tmp_path):
    missing = str(tmp_path / 'no_such_dir')
    work = tmp_path / 'data'
    with pytest.raises(UserError) as e:
        download.maybe_download(SMALL, str(work),
                                source_url=[missing, bad_source])
    message = str(e.value)
    assert '\n' not in message
    assert SMALL in message
    assert missing in message and bad_source in message
    assert 'No such file or directory' in message
    assert 'wrong content' in message
    assert '--data_source_url' in message
    assert download.SOURCE_URL_ENV in message
    assert os.listdir(work) == []  # Nothing partial left.


def test_single_failing_source_says_nothing_but_the_error(tmp_path, capsys):
    with pytest.raises(UserError):
        download.maybe_download(SMALL, str(tmp_path),
                                source_url=str(tmp_path / 'nowhere'))
    captured = capsys.readouterr()
    assert captured.err == '' and captured.out == ''


def test_http_mirrors(http_mirror, tmp_path, capsys):
    work = tmp_path / 'data'
    path = download.maybe_download(
        SMALL, str(work),
        source_url=[http_mirror + 'missing/', http_mirror + 'huge/',
                    http_mirror + 'good/'])
    assert sha256(path) == download.FILES[SMALL]
    assert os.listdir(work) == [SMALL]
    err = capsys.readouterr().err
    assert 'HTTP 404' in err
    assert 'more than the 4542 bytes' in err


def test_http_all_fail(http_mirror, tmp_path):
    with pytest.raises(UserError) as e:
        download.maybe_download(SMALL, str(tmp_path),
                                source_url=http_mirror + 'missing')
    assert 'HTTP 404 Not Found' in str(e.value)
    assert http_mirror + 'missing/' + SMALL in str(e.value)
    assert os.listdir(tmp_path) == []


def test_unresponsive_server_times_out(tmp_path):
    with socket.socket() as listener:
        listener.bind(('127.0.0.1', 0))
        listener.listen(1)  # Accepts connections, never answers.
        url = 'http://127.0.0.1:%d/' % listener.getsockname()[1]
        with pytest.raises(UserError) as e:
            download.maybe_download(SMALL, str(tmp_path), source_url=url,
                                    timeout=0.2)
    assert 'timed out' in str(e.value)
    assert os.listdir(tmp_path) == []


def test_existing_bad_file_is_reported_and_left_untouched(tmp_path,
                                                          mnist_source_dir):
    target = tmp_path / SMALL
    target.write_bytes(b'<html>a proxy error page</html>')
    before = target.stat()
    with pytest.raises(UserError) as e:
        download.maybe_download(SMALL, str(tmp_path),
                                source_url=mnist_source_dir)
    message = str(e.value)
    assert '\n' not in message
    assert str(target) in message and 'move it away' in message
    assert target.read_bytes() == b'<html>a proxy error page</html>'
    assert target.stat().st_mtime_ns == before.st_mtime_ns
    assert os.listdir(tmp_path) == [SMALL]


def test_verify(mnist_source_dir, tmp_path):
    good = os.path.join(mnist_source_dir, SMALL)
    assert download.verify(good, SMALL) == good
    with pytest.raises(UserError):
        download.verify(good, 'train-labels-idx1-ubyte.gz')
    with pytest.raises(UserError):
        download.verify(str(tmp_path / 'absent'), SMALL)


def test_unknown_file_name_is_a_programming_error(tmp_path):
    with pytest.raises(ValueError):
        download.maybe_download('train-images.gz', str(tmp_path))
    with pytest.raises(ValueError):
        download.verify(str(tmp_path), 'x')


def test_uncreatable_directory(tmp_path, mnist_source_dir):
    blocker = tmp_path / 'a_file'
    blocker.write_text('')
    with pytest.raises(UserError) as e:
        download.maybe_download(SMALL, str(blocker / 'data'),
                                source_url=mnist_source_dir)
    assert 'cannot create' in str(e.value)


def test_interrupted_download_leaves_no_temp_file(monkeypatch, tmp_path,
                                                  mnist_source_dir):

    class Interrupted(object):

        def __enter__(self):
            return self

        def __exit__(self, *args):
            return False

        def read(self, size):
            raise KeyboardInterrupt

    monkeypatch.setattr(download, '_open_source',
                        lambda location, timeout: Interrupted())
    with pytest.raises(KeyboardInterrupt):
        download.maybe_download(SMALL, str(tmp_path),
                                source_url=mnist_source_dir)
    assert os.listdir(tmp_path) == []
