"""Tasks of a lead: list, add, change and delete. Routes only; the rules live in the layer."""

from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body

from leads_shared import tasks
from leads_shared.api import (
    BODY_ERRORS,
    LeadId,
    TaskId,
    caller,
    cors,
    entry_point,
    responses,
    use_api_conventions,
)
from leads_shared.data import get_activity_store, get_record_store
from leads_shared.models.activities import TaskCreate, TaskList, TaskOut, TaskUpdate
from leads_shared.models.common import SuccessBody
from leads_shared.observability import metrics, tracer

app = APIGatewayRestResolver(enable_validation=True, cors=cors())
use_api_conventions(app)

TAGS = ["Tasks"]


@app.get(
    "/leads/<id>/tasks",
    summary="Get lead tasks",
    tags=TAGS,
    responses=responses((200, TaskList, "By due date and time; undated tasks last."), 404),
)
@tracer.capture_method
def list_tasks(id: LeadId) -> TaskList:
    found = tasks.list_tasks(caller(app), id, get_activity_store())
    return TaskList(data=[TaskOut.of(task) for task in found])


@app.post(
    "/leads/<id>/tasks",
    summary="Add task to lead",
    tags=TAGS,
    responses=responses((201, TaskOut, "The task."), *BODY_ERRORS, 404),
)
@tracer.capture_method
def add_task(id: LeadId, body: Annotated[TaskCreate, Body()]) -> Response[TaskOut]:
    task = tasks.add_task(caller(app), id, body, get_activity_store(), get_record_store())
    metrics.add_metric(name="TaskAdded", unit="Count", value=1)
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=TaskOut.of(task))


@app.put(
    "/leads/<id>/tasks/<taskId>",
    summary="Update lead task",
    tags=TAGS,
    description="Fields left out keep their value; `null` clears an optional field. `completed` "
    "sets or clears `completed_at`.",
    responses=responses((200, TaskOut, "The updated task."), *BODY_ERRORS, 404, 409),
)
@tracer.capture_method
def update_task(id: LeadId, taskId: TaskId, body: Annotated[TaskUpdate, Body()]) -> TaskOut:
    return TaskOut.of(tasks.update_task(caller(app), id, taskId, body, get_activity_store()))


@app.delete(
    "/leads/<id>/tasks/<taskId>",
    summary="Delete lead task",
    tags=TAGS,
    responses=responses((200, SuccessBody, "The task is deleted."), 404),
)
@tracer.capture_method
def delete_task(id: LeadId, taskId: TaskId) -> SuccessBody:
    tasks.delete_task(caller(app), id, taskId, get_activity_store())
    return SuccessBody()


lambda_handler = entry_point(app)
