"""An in-process chat model for unit tests: a LangChain `BaseChatModel` whose answers come from a Python function.

Like pydantic-ai's FunctionModel: `FunctionModel(answer)` calls `answer(messages, options)` for every call and
returns what it says, so a test drives the real `LLMBrain` code path (structured output, streaming, retries, the
circuit breaker, output validation) without a server or an HTTP client::

    from facilitator.testing.function_model import CallOptions, FunctionModel

    def answer(messages: list[BaseMessage], options: CallOptions) -> str:
        if options.purpose == "MoveDraft":
            return json.dumps({"text": "Let's hear from both of you.", "questions": [], "citations": []})
        return "Meet every two weeks [c1]."

    model = FunctionModel(answer)
    brain = LLMBrain(model, "fake-model")
    ...
    [call] = model.calls  # what the function received: the messages as LangChain objects, and the options
    assert isinstance(call.messages[0], SystemMessage) and call.options.schema is MoveDraft

The function returns a string (the message content; for function calling, the tool call's JSON arguments), an
`AIMessage` (sent as it is), or an iterable of strings (the chunks of a streamed answer, as given; a generator that
raises part-way is a stream cut short). A string is streamed word by word. Whatever the function raises, the call
raises. Structured output is requested as `ChatOpenAI` requests it (`method="json_schema"` binds a
`response_format`, `method="function_calling"` binds the schema as the one tool) and parsed into the schema, so
malformed JSON or a wrong field fails exactly where it would with a real model. With `json_schema=False` the model
refuses `response_format` with the `openai.BadRequestError` a server without json_schema support gives.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage, SystemMessage
from langchain_core.output_parsers.openai_tools import PydanticToolsParser
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableLambda
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel, ConfigDict, PrivateAttr

__all__ = ["CallOptions", "FunctionModel", "ModelCall", "ModelFunction", "ModelReply"]

Method = Literal["json_schema", "function_calling"]
ModelReply = str | AIMessage | Iterable[str]
_CHUNK = re.compile(r"\s*\S+\s*|\s+")


@dataclass(frozen=True)
class CallOptions:
    """How the model was called: streamed or not, and the structured output asked for (if any)."""

    stream: bool = False
    schema: type[BaseModel] | None = None  # the structured-output schema (json_schema or function calling)
    method: Method | None = None
    tools: list[dict[str, Any]] = field(default_factory=list)  # bound tools, in OpenAI format
    tool_choice: Any = None
    response_format: dict[str, Any] | None = None  # as the OpenAI API would receive it
    extra: dict[str, Any] = field(default_factory=dict)  # any other bound keyword argument

    @property
    def purpose(self) -> str:
        """The schema's name for a structured call, otherwise "text" (what eval cassettes call a call's purpose)."""
        if self.schema is not None:
            return self.schema.__name__
        if self.tools:
            return str(self.tools[0]["function"]["name"])
        return "text"


ModelFunction = Callable[[list[BaseMessage], CallOptions], ModelReply]


@dataclass(frozen=True)
class ModelCall:
    """One call the function received."""

    messages: list[BaseMessage]
    options: CallOptions

    @property
    def system(self) -> str:
        """The system message's text ("" without one)."""
        return "\n".join(_text(m) for m in self.messages if isinstance(m, SystemMessage))

    @property
    def user(self) -> str:
        """The user messages' text."""
        return "\n".join(_text(m) for m in self.messages if isinstance(m, HumanMessage))


class FunctionModel(BaseChatModel):
    """A chat model answered by `function(messages, options)`; every call is recorded in `calls`."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    function: ModelFunction
    json_schema: bool = True  # False: refuse `response_format` like a server without json_schema support
    model_name: str = "function-model"
    _calls: list[ModelCall] = PrivateAttr(default_factory=list)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def __init__(self, function: ModelFunction, **kwargs: Any) -> None:
        super().__init__(**{"function": function, **kwargs})

    @property
    def _llm_type(self) -> str:
        return "function-model"

    @property
    def calls(self) -> list[ModelCall]:
        """Every call so far, in order (a copy)."""
        with self._lock:
            return list(self._calls)

    # ------------------------------------------------------------------ binding
    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        return self.bind(tools=[convert_to_openai_tool(t) for t in tools], tool_choice=tool_choice, **kwargs)

    def with_structured_output(  # type: ignore[override]
        self,
        schema: type[BaseModel],
        *,
        method: Method = "json_schema",
        include_raw: bool = False,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, BaseModel]:
        """`schema` asked for as ChatOpenAI asks for it, and the answer parsed (and validated) into it."""
        if include_raw or not (isinstance(schema, type) and issubclass(schema, BaseModel)):
            raise NotImplementedError("FunctionModel supports a pydantic schema without include_raw")
        kwargs.pop("strict", None)
        if method == "function_calling":
            name = convert_to_openai_tool(schema)["function"]["name"]
            tools = self.bind_tools([schema], tool_choice=name, _schema=schema, _method=method, **kwargs)
            return tools | PydanticToolsParser(tools=[schema], first_tool_only=True)
        if method == "json_schema":
            function = convert_to_openai_tool(schema)["function"]
            response_format = {
                "type": "json_schema",
                "json_schema": {"name": function["name"], "schema": function["parameters"], "strict": False},
            }
            bound = self.bind(response_format=response_format, _schema=schema, _method=method, **kwargs)
            return bound | RunnableLambda(lambda message: schema.model_validate_json(_text(message)))
        raise NotImplementedError(f"FunctionModel supports json_schema and function_calling, not {method!r}")

    # ------------------------------------------------------------------ calls
    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        options = self._options(kwargs, stream=False)
        reply = self._ask(messages, options)
        if isinstance(reply, AIMessage):
            message = reply
        elif isinstance(reply, str):
            message = _message(reply, options)
        else:
            message = _message("".join(reply), options)
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        options = self._options(kwargs, stream=True)
        reply = self._ask(messages, options)
        if isinstance(reply, AIMessage):
            chunks: Iterable[str] = _chunks(_text(reply))
        elif isinstance(reply, str):
            chunks = _chunks(reply)
        else:
            chunks = reply
        for piece in chunks:
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=piece))
            if run_manager is not None:
                run_manager.on_llm_new_token(piece, chunk=chunk)
            yield chunk

    def _ask(self, messages: list[BaseMessage], options: CallOptions) -> ModelReply:
        received = [m.model_copy(deep=True) for m in messages]
        with self._lock:
            self._calls.append(ModelCall(messages=received, options=options))
        if options.response_format is not None and not self.json_schema:
            raise _json_schema_refused()
        return self.function(received, options)

    def _options(self, kwargs: dict[str, Any], *, stream: bool) -> CallOptions:
        extra = dict(kwargs)
        extra.pop("ls_structured_output_format", None)
        return CallOptions(
            stream=stream,
            schema=extra.pop("_schema", None),
            method=extra.pop("_method", None),
            tools=list(extra.pop("tools", None) or []),
            tool_choice=extra.pop("tool_choice", None),
            response_format=extra.pop("response_format", None),
            extra=extra,
        )


def _text(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    return "".join(part if isinstance(part, str) else str(part.get("text", "")) for part in content)


def _chunks(text: str) -> list[str]:
    """`text` word by word (each word with the spaces around it), as a streaming server would send it."""
    return _CHUNK.findall(text) or [text]  # an empty answer is one empty chunk


def _message(content: str, options: CallOptions) -> AIMessage:
    """The reply as the model's message: with bound tools, a call of the first one whose arguments are `content`."""
    if not options.tools:
        return AIMessage(content=content)
    name = str(options.tools[0]["function"]["name"])
    raw = {"id": f"call_{uuid.uuid4().hex[:12]}", "type": "function", "function": {"name": name, "arguments": content}}
    try:
        args = json.loads(content)
    except json.JSONDecodeError:
        args = None
    if not isinstance(args, dict):  # broken arguments: the parser fails on them, as it does on a real model's
        return AIMessage(content="", additional_kwargs={"tool_calls": [raw]})
    return AIMessage(
        content="",
        additional_kwargs={"tool_calls": [raw]},
        tool_calls=[{"name": name, "args": args, "id": raw["id"], "type": "tool_call"}],
    )


def _json_schema_refused() -> Exception:
    import httpx2  # the HTTP client the openai package ships (and raises with)
    import openai

    request = httpx2.Request("POST", "http://function-model/v1/chat/completions")
    message = "response_format of type json_schema is not supported by this model"
    body = {"error": {"message": message, "type": "invalid_request_error", "param": "response_format"}}
    return openai.BadRequestError(message, response=httpx2.Response(400, request=request, json=body), body=body)
