"""GearmanWorkerCommandHandler: a worker connection's state machine (sleep, grab on NOOP, run the
job under the worker-wide job lock, sleep again) for code that drives GearmanConnection objects
itself. GearmanWorker.work() runs on gearman-core's worker but takes the same job lock and builds
jobs through GearmanWorker.create_job."""

from .command_handler import GearmanCommandHandler
from .errors import InvalidWorkerState
from .protocol import (
    GEARMAN_COMMAND_CAN_DO,
    GEARMAN_COMMAND_GRAB_JOB_UNIQ,
    GEARMAN_COMMAND_PRE_SLEEP,
    GEARMAN_COMMAND_RESET_ABILITIES,
    GEARMAN_COMMAND_SET_CLIENT_ID,
    GEARMAN_COMMAND_WORK_COMPLETE,
    GEARMAN_COMMAND_WORK_DATA,
    GEARMAN_COMMAND_WORK_EXCEPTION,
    GEARMAN_COMMAND_WORK_FAIL,
    GEARMAN_COMMAND_WORK_STATUS,
    GEARMAN_COMMAND_WORK_WARNING,
)


class GearmanWorkerCommandHandler(GearmanCommandHandler):
    def __init__(self, connection_manager=None):
        super().__init__(connection_manager=connection_manager)
        self._handler_abilities = []
        self._client_id = None

    def initial_state(self, abilities=None, client_id=None):
        self.set_client_id(client_id)
        self.set_abilities(abilities)
        self._sleep()

    def set_abilities(self, connection_abilities_list):
        self._handler_abilities = list(connection_abilities_list or [])
        self.send_command(GEARMAN_COMMAND_RESET_ABILITIES)
        for task in self._handler_abilities:
            self.send_command(GEARMAN_COMMAND_CAN_DO, task=task)

    def set_client_id(self, client_id):
        self._client_id = client_id
        if client_id is not None:
            self.send_command(GEARMAN_COMMAND_SET_CLIENT_ID, client_id=client_id)

    def send_job_status(self, current_job, numerator, denominator):
        if not isinstance(numerator, (int, float)) or not isinstance(denominator, (int, float)):
            raise TypeError("numerator and denominator must be numbers")
        self.send_command(GEARMAN_COMMAND_WORK_STATUS, job_handle=current_job.handle,
                          numerator=str(numerator), denominator=str(denominator))

    def send_job_complete(self, current_job, data):
        self.send_command(GEARMAN_COMMAND_WORK_COMPLETE, job_handle=current_job.handle, data=self.encode_data(data))

    def send_job_failure(self, current_job):
        self.send_command(GEARMAN_COMMAND_WORK_FAIL, job_handle=current_job.handle)

    def send_job_exception(self, current_job, data):
        self.send_command(GEARMAN_COMMAND_WORK_EXCEPTION, job_handle=current_job.handle, data=self.encode_data(data))

    def send_job_data(self, current_job, data):
        self.send_command(GEARMAN_COMMAND_WORK_DATA, job_handle=current_job.handle, data=self.encode_data(data))

    def send_job_warning(self, current_job, data):
        self.send_command(GEARMAN_COMMAND_WORK_WARNING, job_handle=current_job.handle, data=self.encode_data(data))

    def _grab_job(self):
        self.send_command(GEARMAN_COMMAND_GRAB_JOB_UNIQ)

    def _sleep(self):
        self.send_command(GEARMAN_COMMAND_PRE_SLEEP)

    def _release_job_lock(self):
        if not self.connection_manager.set_job_lock(self, lock=False):
            raise InvalidWorkerState("Unable to release job lock for %r" % self)
        return True

    def recv_noop(self):
        manager = self.connection_manager
        if manager.check_job_lock(self):
            pass  # already waiting for a job on this connection
        elif manager.set_job_lock(self, lock=True):
            self._grab_job()
        else:
            self._sleep()  # another connection holds the job lock
        return True

    def recv_no_job(self):
        self._release_job_lock()
        self._sleep()
        return True

    def recv_job_assign_uniq(self, job_handle, task, unique, data):
        if task not in self._handler_abilities:
            raise InvalidWorkerState("%r not found in %r" % (task, self._handler_abilities))
        manager = self.connection_manager
        if not manager.check_job_lock(self):
            raise InvalidWorkerState("Received a job when we weren't expecting one")
        manager.on_job_execute(manager.create_job(self, job_handle, task, unique, self.decode_data(data)))
        self._release_job_lock()
        self._sleep()
        return True

    def recv_job_assign(self, job_handle, task, data):
        return self.recv_job_assign_uniq(job_handle=job_handle, task=task, unique=None, data=data)
