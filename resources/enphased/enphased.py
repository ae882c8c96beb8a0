#!/usr/bin/env python3
"""The Enphase daemon that Jeedom starts (see docs/protocol.md):

    enphased.py --loglevel info --socket DATADIR/daemon.sock --callback URL --apikey-file FILE --pid FILE --datadir DIR

It writes its pid file, listens for PHP on the Unix socket, polls the gateways PHP configures and
POSTs what changed to the callback. SIGTERM (or the `stop` action) ends it cleanly: workers stop, waiting
events get one last chance to reach Jeedom, the pid file goes; --datadir (tokens, inventory) stays.
Secrets (passwords, tokens) only ever come over the socket.

`enphased.py probe --host H ...` probes a gateway from the shell instead (see probe_cli.py);
`enphased.py diagnostics --host H ... --out FILE.zip` writes a redacted report of it (see diagnostics.py).
"""
import argparse
import logging
import os
import signal
import sys
import threading

# Jeedom's level names (monolog, as log::convertLogLevel gives them) -> Python's levels.
LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "notice": logging.INFO, "warning": logging.WARNING,
          "error": logging.ERROR, "critical": logging.CRITICAL, "alert": logging.CRITICAL,
          "emergency": logging.CRITICAL, "none": logging.CRITICAL + 10}

log = logging.getLogger("enphased")


def setup_logging(level_name: str) -> None:
    # Jeedom's own line format, so the daemon's lines read like the plugin's in the log page.
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("[%(asctime)s][%(levelname)s] : %(message)s", "%Y-%m-%d %H:%M:%S"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(LEVELS.get(str(level_name).lower(), logging.INFO))
    logging.captureWarnings(True)  # library warnings in the same format, not as loose stderr lines
    # Libraries speak at our level only when debugging (urllib3 logs every request at debug).
    logging.getLogger("urllib3").setLevel(logging.DEBUG if root.level <= logging.DEBUG else logging.WARNING)


def parse_args(argv):
    # A fixed width: argparse would import shutil (and bz2, lzma) to measure a terminal the daemon never has.
    parser = argparse.ArgumentParser(prog="enphased.py", description="Enphase gateway daemon for Jeedom",
                                     formatter_class=lambda prog: argparse.HelpFormatter(prog, width=100))
    parser.add_argument("--loglevel", default="info")
    # A Unix socket in a folder only the daemon's user can enter, rather than Jeedom's usual loopback port:
    # any local user can listen on a port first, and PHP would hand them the apikey and every secret.
    parser.add_argument("--socket", required=True, help="path of the Unix socket PHP talks to (its folder 0700)")
    parser.add_argument("--callback", required=True)
    # The apikey opens the socket (controls included): Jeedom passes a 0600 file, never the key itself,
    # since every local user can read a command line. --apikey stays for tests and manual runs.
    key = parser.add_mutually_exclusive_group(required=True)
    key.add_argument("--apikey-file", help="file holding the plugin's apikey (mode 0600)")
    key.add_argument("--apikey", help=argparse.SUPPRESS)
    parser.add_argument("--pid", required=True)
    parser.add_argument("--datadir", default=None, help="what must survive a restart (tokens, inventory)")
    args = parser.parse_args(argv)
    if args.apikey_file:
        try:
            with open(args.apikey_file, encoding="utf-8") as file:
                args.apikey = file.read().strip()
        except OSError as e:
            parser.error(f"cannot read the apikey file {args.apikey_file}: {e.strerror}")
        if not args.apikey:
            parser.error(f"the apikey file {args.apikey_file} is empty")
    return args


def write_pid(path: str) -> None:
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    with open(path, "w", encoding="utf-8") as file:
        file.write(f"{os.getpid()}\n")


def start_core(socket_path: str, callback_url: str, apikey: str, datadir=None, **options):
    """The daemon's core in this process, listening: (Daemon, SocketServer). `run` wraps it for Jeedom;
    tests and the benchmark call it directly (`options` go to the Daemon: a test's envoy_factory). Raises
    ChannelError or OSError when it cannot listen."""
    from gateways import Daemon
    from jeedom.callback import Callback
    from jeedom.socket_server import SocketServer

    if datadir:
        os.makedirs(datadir, mode=0o700, exist_ok=True)
    daemon = Daemon(Callback(callback_url, apikey), datadir=datadir, **options)
    server = SocketServer(socket_path, apikey, daemon.handle)
    return daemon, server.start()


def one_malloc_arena() -> None:
    """glibc gives each thread that allocates at the same time as another an arena of its own, and keeps what
    they freed: the gateways' workers, each decoding MBs of a site's answers now and then, would leave the
    daemon 5 MB bigger for nothing. Before any thread starts; a libc without mallopt keeps its own ways."""
    try:
        import ctypes

        ctypes.CDLL(None).mallopt(-8, 1)  # M_ARENA_MAX
    except (OSError, AttributeError):
        pass


def run(args) -> int:
    one_malloc_arena()
    setup_logging(args.loglevel)
    from jeedom.socket_server import ChannelError
    try:
        daemon, server = start_core(args.socket, args.callback, args.apikey, args.datadir)
    except ChannelError as e:
        log.error("%s", e)
        return 1
    except OSError as e:
        log.error("Cannot listen on %s (%s): is another daemon running?", args.socket, e.strerror)
        return 1
    write_pid(args.pid)
    stop_requested = threading.Event()

    def on_signal(signum, frame):
        log.info("Signal %s received: stopping", signal.Signals(signum).name)
        stop_requested.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    log.info("Daemon started (pid %d)", os.getpid())
    # The main thread only waits, so signals are handled at once; work happens in the other threads.
    while not (stop_requested.is_set() or daemon.stopped.is_set()):
        stop_requested.wait(1.0)
    server.stop()
    daemon.stop()
    try:
        os.remove(args.pid)
    except OSError:
        pass
    log.info("Daemon stopped")
    return 0


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "probe":
        import probe_cli
        return probe_cli.main(argv[1:])
    if argv and argv[0] == "diagnostics":
        import diagnostics
        return diagnostics.main(argv[1:])
    return run(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
