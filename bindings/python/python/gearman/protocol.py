"""The Gearman binary protocol as python-gearman names it: command numbers, argument names per
command, admin command words, and pack/parse helpers. gearman-core speaks the protocol for the
clients and workers; these are for code that builds or inspects packets itself."""

import struct

from .constants import PRIORITY_HIGH, PRIORITY_LOW, PRIORITY_NONE
from .errors import ProtocolError

NULL_CHAR = b"\x00"
MAGIC_RES_STRING = b"\x00RES"
MAGIC_REQ_STRING = b"\x00REQ"
COMMAND_HEADER_SIZE = 12

GEARMAN_COMMAND_CAN_DO = 1
GEARMAN_COMMAND_CANT_DO = 2
GEARMAN_COMMAND_RESET_ABILITIES = 3
GEARMAN_COMMAND_PRE_SLEEP = 4
GEARMAN_COMMAND_NOOP = 6
GEARMAN_COMMAND_SUBMIT_JOB = 7
GEARMAN_COMMAND_JOB_CREATED = 8
GEARMAN_COMMAND_GRAB_JOB = 9
GEARMAN_COMMAND_NO_JOB = 10
GEARMAN_COMMAND_JOB_ASSIGN = 11
GEARMAN_COMMAND_WORK_STATUS = 12
GEARMAN_COMMAND_WORK_COMPLETE = 13
GEARMAN_COMMAND_WORK_FAIL = 14
GEARMAN_COMMAND_GET_STATUS = 15
GEARMAN_COMMAND_ECHO_REQ = 16
GEARMAN_COMMAND_ECHO_RES = 17
GEARMAN_COMMAND_SUBMIT_JOB_BG = 18
GEARMAN_COMMAND_ERROR = 19
GEARMAN_COMMAND_STATUS_RES = 20
GEARMAN_COMMAND_SUBMIT_JOB_HIGH = 21
GEARMAN_COMMAND_SET_CLIENT_ID = 22
GEARMAN_COMMAND_CAN_DO_TIMEOUT = 23
GEARMAN_COMMAND_ALL_YOURS = 24
GEARMAN_COMMAND_WORK_EXCEPTION = 25
GEARMAN_COMMAND_OPTION_REQ = 26
GEARMAN_COMMAND_OPTION_RES = 27
GEARMAN_COMMAND_WORK_DATA = 28
GEARMAN_COMMAND_WORK_WARNING = 29
GEARMAN_COMMAND_GRAB_JOB_UNIQ = 30
GEARMAN_COMMAND_JOB_ASSIGN_UNIQ = 31
GEARMAN_COMMAND_SUBMIT_JOB_HIGH_BG = 32
GEARMAN_COMMAND_SUBMIT_JOB_LOW = 33
GEARMAN_COMMAND_SUBMIT_JOB_LOW_BG = 34
# Not a packet: python-gearman's stand-in for one line of the text admin protocol.
GEARMAN_COMMAND_TEXT_COMMAND = 9999

_SUBMIT_ARGS = ["task", "unique", "data"]
GEARMAN_PARAMS_FOR_COMMAND = {
    GEARMAN_COMMAND_CAN_DO: ["task"],
    GEARMAN_COMMAND_CANT_DO: ["task"],
    GEARMAN_COMMAND_RESET_ABILITIES: [],
    GEARMAN_COMMAND_PRE_SLEEP: [],
    GEARMAN_COMMAND_NOOP: [],
    GEARMAN_COMMAND_SUBMIT_JOB: _SUBMIT_ARGS,
    GEARMAN_COMMAND_JOB_CREATED: ["job_handle"],
    GEARMAN_COMMAND_GRAB_JOB: [],
    GEARMAN_COMMAND_NO_JOB: [],
    GEARMAN_COMMAND_JOB_ASSIGN: ["job_handle", "task", "data"],
    GEARMAN_COMMAND_WORK_STATUS: ["job_handle", "numerator", "denominator"],
    GEARMAN_COMMAND_WORK_COMPLETE: ["job_handle", "data"],
    GEARMAN_COMMAND_WORK_FAIL: ["job_handle"],
    GEARMAN_COMMAND_GET_STATUS: ["job_handle"],
    GEARMAN_COMMAND_ECHO_REQ: ["data"],
    GEARMAN_COMMAND_ECHO_RES: ["data"],
    GEARMAN_COMMAND_SUBMIT_JOB_BG: _SUBMIT_ARGS,
    GEARMAN_COMMAND_ERROR: ["error_code", "error_text"],
    GEARMAN_COMMAND_STATUS_RES: ["job_handle", "known", "running", "numerator", "denominator"],
    GEARMAN_COMMAND_SUBMIT_JOB_HIGH: _SUBMIT_ARGS,
    GEARMAN_COMMAND_SET_CLIENT_ID: ["client_id"],
    GEARMAN_COMMAND_CAN_DO_TIMEOUT: ["task", "timeout"],
    GEARMAN_COMMAND_ALL_YOURS: [],
    GEARMAN_COMMAND_WORK_EXCEPTION: ["job_handle", "data"],
    GEARMAN_COMMAND_OPTION_REQ: ["option_name"],
    GEARMAN_COMMAND_OPTION_RES: ["option_name"],
    GEARMAN_COMMAND_WORK_DATA: ["job_handle", "data"],
    GEARMAN_COMMAND_WORK_WARNING: ["job_handle", "data"],
    GEARMAN_COMMAND_GRAB_JOB_UNIQ: [],
    GEARMAN_COMMAND_JOB_ASSIGN_UNIQ: ["job_handle", "task", "unique", "data"],
    GEARMAN_COMMAND_SUBMIT_JOB_HIGH_BG: _SUBMIT_ARGS,
    GEARMAN_COMMAND_SUBMIT_JOB_LOW: _SUBMIT_ARGS,
    GEARMAN_COMMAND_SUBMIT_JOB_LOW_BG: _SUBMIT_ARGS,
    GEARMAN_COMMAND_TEXT_COMMAND: ["raw_text"],
}

GEARMAN_COMMAND_TO_NAME = {
    number: name for name, number in list(globals().items())
    if name.startswith("GEARMAN_COMMAND_") and isinstance(number, int)
}

GEARMAN_SERVER_COMMAND_STATUS = "status"
GEARMAN_SERVER_COMMAND_VERSION = "version"
GEARMAN_SERVER_COMMAND_WORKERS = "workers"
GEARMAN_SERVER_COMMAND_MAXQUEUE = "maxqueue"
GEARMAN_SERVER_COMMAND_SHUTDOWN = "shutdown"
GEARMAN_SERVER_COMMAND_GETPID = "getpid"
GEARMAN_SERVER_COMMAND_SHOW_JOBS = "show jobs"
GEARMAN_SERVER_COMMAND_SHOW_UNIQUE_JOBS = "show unique jobs"
GEARMAN_SERVER_COMMAND_CANCEL_JOB = "cancel job"

_SUBMIT_COMMANDS = {
    (False, PRIORITY_NONE): GEARMAN_COMMAND_SUBMIT_JOB,
    (False, PRIORITY_LOW): GEARMAN_COMMAND_SUBMIT_JOB_LOW,
    (False, PRIORITY_HIGH): GEARMAN_COMMAND_SUBMIT_JOB_HIGH,
    (True, PRIORITY_NONE): GEARMAN_COMMAND_SUBMIT_JOB_BG,
    (True, PRIORITY_LOW): GEARMAN_COMMAND_SUBMIT_JOB_LOW_BG,
    (True, PRIORITY_HIGH): GEARMAN_COMMAND_SUBMIT_JOB_HIGH_BG,
}


def get_command_name(cmd_type):
    """'GEARMAN_COMMAND_NOOP' for 6; an unknown number comes back unchanged."""
    return GEARMAN_COMMAND_TO_NAME.get(cmd_type, cmd_type)


def submit_cmd_for_background_priority(background, priority):
    """The SUBMIT_JOB* command for a background flag and a PRIORITY_* value (KeyError otherwise)."""
    return _SUBMIT_COMMANDS[(bool(background), priority)]


def _binary_params(cmd_type):
    params = GEARMAN_PARAMS_FOR_COMMAND.get(cmd_type)
    if params is None or cmd_type == GEARMAN_COMMAND_TEXT_COMMAND:
        raise ProtocolError("Received unknown binary command: %s" % get_command_name(cmd_type))
    return params


def parse_binary_command(in_buffer, is_response=True):
    """(cmd_type, {argument name: bytes}, packet size) for the packet at the start of in_buffer,
    or (None, None, 0) while it is incomplete. Raises ProtocolError on a bad magic, an unknown
    command or a wrong argument count."""
    if len(in_buffer) < COMMAND_HEADER_SIZE:
        return None, None, 0
    magic, cmd_type, size = struct.unpack("!4sII", bytes(in_buffer[:COMMAND_HEADER_SIZE]))
    if magic != (MAGIC_RES_STRING if is_response else MAGIC_REQ_STRING):
        raise ProtocolError("Malformed Magic")
    params = _binary_params(cmd_type)
    end = COMMAND_HEADER_SIZE + size
    if len(in_buffer) < end:
        return None, None, 0
    payload = bytes(in_buffer[COMMAND_HEADER_SIZE:end])
    if not params:
        if payload:
            raise ProtocolError("Expected no binary payload: %s" % get_command_name(cmd_type))
        return cmd_type, {}, end
    values = payload.split(NULL_CHAR, len(params) - 1)
    if len(values) != len(params):
        raise ProtocolError("Received %d argument(s), expecting %d argument(s): %s"
                            % (len(values), len(params), get_command_name(cmd_type)))
    return cmd_type, dict(zip(params, values)), end


def pack_binary_command(cmd_type, cmd_args, is_response=False):
    """The packet for cmd_type with cmd_args ({argument name: bytes or str}); str is UTF-8."""
    params = _binary_params(cmd_type)
    if set(params) != set(cmd_args):
        raise ProtocolError("Received arguments did not match expected arguments: %r != %r"
                            % (set(params), set(cmd_args)))
    values = []
    for name in params:
        value = cmd_args[name]
        if isinstance(value, str):
            value = value.encode("utf-8")
        elif not isinstance(value, (bytes, bytearray)):
            raise ProtocolError("Received non-binary arguments: %r" % (cmd_args,))
        values.append(bytes(value))
    if any(NULL_CHAR in value for value in values[:-1]):
        raise ProtocolError("Received arguments with NULL byte in non-final argument")
    payload = NULL_CHAR.join(values)
    magic = MAGIC_RES_STRING if is_response else MAGIC_REQ_STRING
    return struct.pack("!4sII", magic, cmd_type, len(payload)) + payload


def parse_text_command(in_buffer):
    """(GEARMAN_COMMAND_TEXT_COMMAND, {'raw_text': line}, bytes used) for the first text line of
    in_buffer, or (None, None, 0) while no whole line has arrived."""
    data = bytes(in_buffer)
    line, newline, _ = data.partition(b"\n")
    if not newline:
        return None, None, 0
    if NULL_CHAR in line:
        raise ProtocolError("Received unexpected character: %r" % line)
    return GEARMAN_COMMAND_TEXT_COMMAND, {"raw_text": line}, len(line) + 1


def pack_text_command(cmd_type, cmd_args):
    """The text line to send for a GEARMAN_COMMAND_TEXT_COMMAND ({'raw_text': ...})."""
    if cmd_type != GEARMAN_COMMAND_TEXT_COMMAND:
        raise ProtocolError("Unknown cmd_type: Received %s, expecting %s"
                            % (get_command_name(cmd_type), get_command_name(GEARMAN_COMMAND_TEXT_COMMAND)))
    line = cmd_args.get("raw_text")
    if line is None:
        raise ProtocolError("Did not receive arguments any valid arguments: %s" % (cmd_args,))
    return line.decode("utf-8") if isinstance(line, bytes) else str(line)
