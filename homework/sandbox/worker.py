"""The sandbox worker: runs teacher-written probes on a student's code, arrays in, arrays out.

Started by launch.py after the privilege drop, as ``python -I -S -B worker.py`` with the
worker's folder, the probes and the student's private copy on sys.path (set below from the
arguments; no site-packages processing, so no editable-install finder or .pth file of the
project is active), plus the one site-packages folder that holds NumPy.

Requests come on stdin, answers go out on the file descriptor that was stdout; fd 1 itself is
pointed at stderr first, so a student's print() cannot break the channel. Whatever a probe
raises, BaseException included (KeyboardInterrupt, SystemExit, pytest's exit/skip/xfail
outcomes), becomes an error answer: the grader counts it as a failure. Nothing here decides a
verdict; this process only computes values, which the grader compares in its own process.
"""
import json
import os
import sys
import traceback

MAX_ERROR_CHARS = 4000


def _setup_path(config):
    """The worker's own imports (NumPy, the wire format) first, from the grader's folders only;
    then the student's copy goes in front, so a numpy.py in the submission changes nothing here."""
    sys.path[:] = [config["grader_dir"], *[p for p in sys.path if p], config["numpy_dir"]]
    import numpy  # noqa: F401
    import _homework_rpc  # noqa: F401
    sys.path[1:1] = [config["code_dir"]]


def _error_answer(error):
    text = "".join(traceback.format_exception_only(type(error), error)).strip()
    frames = traceback.extract_tb(error.__traceback__)
    # The student's own frames only (in their copy): where their code raised.
    code_dir = _CONFIG["code_dir"]
    where = [f"{os.path.relpath(f.filename, code_dir)}:{f.lineno} in {f.name}"
             for f in frames if f.filename.startswith(code_dir + os.sep)]
    return {"ok": False, "error_type": type(error).__name__, "error": text[:MAX_ERROR_CHARS],
            "where": where[-3:]}


def main():
    global _CONFIG
    _CONFIG = config = json.loads(sys.argv[1])
    channel_out = os.dup(1)
    os.dup2(2, 1)                                   # print() goes to the log, not the channel
    channel_in = os.dup(0)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)                             # input() reads nothing
    _setup_path(config)
    import importlib

    import _homework_rpc as rpc                     # noqa: E402 - after sys.path is set

    reader = rpc.Reader(channel_in)
    while True:
        try:
            header, arrays = reader.read()
        except rpc.ProtocolError:
            return                                  # the grader closed the channel: done
        try:
            module = importlib.import_module(f"_homework_probes.{header['probe']}")
            outputs = module.run(header["case"], header.get("params", {}), arrays)
            if not isinstance(outputs, dict):
                raise TypeError(f"the probe returned {type(outputs).__name__}, not a dict")
            answer, values = {"ok": True}, {str(k): v for k, v in outputs.items()}
            data = rpc.encode(answer, values)       # may fail on an object array: an error answer
        except BaseException as error:              # noqa: BLE001 - every interruption is a failure
            data = rpc.encode(_error_answer(error), {})
        view = memoryview(data)
        while view:
            view = view[os.write(channel_out, view):]


_CONFIG = {}

if __name__ == "__main__":
    main()
