// The simulator's request handler: routes each request, counts it, picks its fault, and delivers the response.

import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { ChatRequest } from '../core/types.js';
import { blockPlan, planChatCompletion, type ChatPlan } from './chat-generation.js';
import { renderChatCompletion, renderChatStream, type RenderedStream, type ResponseIdentity } from './chat-render.js';
import { validateChatRequest } from './chat-request.js';
import { toHex32 } from './deterministic-random.js';
import { deliver, ResponseControl } from './delivery.js';
import { renderEmbeddings } from './embeddings.js';
import { envelopeForRequestError, errorEnvelope, SimRequestError } from './error-envelope.js';
import { reshapedDelivery, replacementDelivery, type PlannedResponse, type ResponseHeaders } from './fault-response.js';
import { FaultSelector, type FaultTarget } from './fault-selector.js';
import type { FaultSpec } from './fault-spec.js';
import { applyLatencyHeader, type ResolvedLatency } from './latency.js';
import { parseJsonBody, readBody } from './request-body.js';
import { SimStatsCounter } from './stats.js';
import { anthropicChatRequest, anthropicErrorBody, renderAnthropicMessage, renderAnthropicStream } from './wire/anthropic.js';
import { geminiChatRequest, geminiErrorBody, geminiRoute, renderGeminiEmbeddings, renderGeminiResponse, renderGeminiStream } from './wire/gemini.js';

/** The provider wire formats the simulator speaks; each has its own routes, bodies, streams and error shapes. */
type Wire = 'openai' | 'anthropic' | 'gemini';

export interface SimHandlerConfig {
  name: string;
  models: readonly string[];
  latency: ResolvedLatency;
  faults: readonly FaultSpec[];
}

/** The parts of a request that decide how it is answered, read from its headers before the body. */
interface RequestControls {
  latency: ResolvedLatency;
  faultHeader: { text: string; spec: FaultSpec; key: string | undefined } | undefined;
}

// Models listed by /v1/models carry a fixed `created` so the listing is byte-for-byte stable.
const modelsCreated = 1_700_000_000;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function headerText(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

export class SimHandler {
  readonly stats = new SimStatsCounter();
  private readonly config: SimHandlerConfig;
  private readonly faults: FaultSelector;
  private readonly headers: ResponseHeaders;
  private readonly modelsBody: string;
  private readonly modelBodies: Map<string, string>;
  private sequence = 0;

  constructor(config: SimHandlerConfig) {
    this.config = config;
    this.faults = new FaultSelector(config.faults);
    this.headers = {
      json: { 'content-type': 'application/json', 'x-sim-instance': config.name },
      eventStream: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-sim-instance': config.name },
    };
    const models = config.models.map((id) => ({ id, object: 'model' as const, created: modelsCreated, owned_by: 'breakwater-sim' }));
    this.modelsBody = JSON.stringify({ object: 'list', data: models });
    this.modelBodies = new Map(models.map((model) => [model.id, JSON.stringify(model)]));
  }

  /** Zeroes the counters and every fault's `times` count. */
  reset(): void {
    this.stats.reset();
    this.faults.reset();
  }

  readonly handle = (request: IncomingMessage, response: ServerResponse): void => {
    const url = request.url ?? '/';
    const queryStart = url.indexOf('?');
    const path = queryStart === -1 ? url : url.slice(0, queryStart);
    const method = request.method ?? 'GET';

    // Control endpoints are not counted or faulted, so watching the simulator never disturbs it.
    if (path === '/health' || path === '/sim/stats' || path === '/sim/reset') {
      this.handleControl(path, method, response);
      return;
    }

    const control = this.track(response);
    this.handleApi(path, method, request, control).catch((error: unknown) => this.fail(control, error));
  };

  private handleControl(path: string, method: string, response: ServerResponse): void {
    let status = 200;
    let body: string;
    if (path === '/health' && (method === 'GET' || method === 'HEAD')) body = '{"status":"ok"}';
    else if (path === '/sim/stats' && method === 'GET') body = JSON.stringify(this.stats.snapshot());
    else if (path === '/sim/reset' && method === 'POST') {
      this.reset();
      body = JSON.stringify(this.stats.snapshot());
    } else {
      status = 405;
      body = errorEnvelope(`Method ${method} is not allowed on ${path}.`, 'invalid_request_error', null, 'method_not_allowed');
    }
    response.writeHead(status, { ...this.headers.json, 'content-length': Buffer.byteLength(body) });
    response.end(body);
  }

  /** Counts the request and settles it exactly once as completed or aborted when its connection closes. */
  private track(response: ServerResponse): ResponseControl {
    const { stats } = this;
    const control = new ResponseControl(response);
    const generation = stats.generation;
    stats.total++;
    stats.inFlight++;
    response.once('close', () => {
      control.cancel();
      stats.inFlight--;
      if (generation !== stats.generation) return;
      if (response.writableFinished || control.endedBySim) stats.completed++;
      else stats.aborted++;
    });
    return control;
  }

  private async handleApi(path: string, method: string, request: IncomingMessage, control: ResponseControl): Promise<void> {
    const azure = azureRoute(path);
    if (azure !== undefined) {
      // Azure OpenAI's layout: OpenAI's bodies at /openai/deployments/{deployment}/…?api-version=…, the deployment naming the model.
      if (!/[?&]api-version=[^&]+/.test(request.url ?? '')) throw new SimRequestError(404, 'Resource not found', { code: '404' });
      return azure.endpoint === 'chat' ? this.handleOpenAIChat(path, method, request, control, azure.deployment) : this.handleOpenAIEmbeddings(path, method, request, control, azure.deployment);
    }
    if (path === '/v1/chat/completions') return this.handleOpenAIChat(path, method, request, control, undefined);

    if (path === '/v1/messages') {
      control.errorBody = anthropicErrorBody;
      if (method !== 'POST') return this.methodNotAllowed(control, method, path, 'POST');
      this.stats.chat++;
      const controls = this.readControls(request);
      const body = parseJsonBody(await readBody(request));
      const fields = isRecord(body) ? body : {};
      const model = typeof fields.model === 'string' ? fields.model : undefined;
      return this.respond(request, control, controls, { endpoint: 'chat', model }, fields.stream === true, (fault) =>
        this.planChat(anthropicChatRequest(body), controls.latency, 'anthropic', fault),
      );
    }
    if (path.startsWith('/v1beta/')) return this.handleGemini(path, method, request, control);
    if (path === '/v1/embeddings') return this.handleOpenAIEmbeddings(path, method, request, control, undefined);
    if (path === '/v1/models' || path.startsWith('/v1/models/')) {
      if (method !== 'GET') return this.methodNotAllowed(control, method, path, 'GET');
      this.stats.models++;
      const controls = this.readControls(request);
      const modelId = path === '/v1/models' ? undefined : safeDecode(path.slice('/v1/models/'.length));
      const body = modelId === undefined ? this.modelsBody : this.modelBodies.get(modelId);
      if (body === undefined) throw new SimRequestError(404, `The model '${modelId}' does not exist.`, { param: 'model', code: 'model_not_found' });
      // Listing models is metadata, not generation, so configured latency does not apply.
      return this.respond(request, control, controls, { endpoint: 'models', model: undefined }, false, () => ({ stream: false, body, initialDelayMs: 0 }));
    }
    throw new SimRequestError(404, `Unknown request URL: ${method} ${path}.`, { code: 'unknown_url' });
  }

  /** OpenAI chat completions; `deployment` (Azure's URL) names the model instead of the body. */
  private async handleOpenAIChat(path: string, method: string, request: IncomingMessage, control: ResponseControl, deployment: string | undefined): Promise<void> {
    if (method !== 'POST') return this.methodNotAllowed(control, method, path, 'POST');
    this.stats.chat++;
    const controls = this.readControls(request);
    const body = withModel(parseJsonBody(await readBody(request)), deployment);
    const fields = isRecord(body) ? body : {};
    const model = typeof fields.model === 'string' ? fields.model : undefined;
    // Faults that replace the response (status, hang, reset) fire before validation, as an overloaded upstream's would.
    return this.respond(request, control, controls, { endpoint: 'chat', model }, fields.stream === true, (fault) =>
      this.planChat(validateChatRequest(body), controls.latency, 'openai', fault),
    );
  }

  private async handleOpenAIEmbeddings(path: string, method: string, request: IncomingMessage, control: ResponseControl, deployment: string | undefined): Promise<void> {
    if (method !== 'POST') return this.methodNotAllowed(control, method, path, 'POST');
    this.stats.embeddings++;
    const controls = this.readControls(request);
    const body = withModel(parseJsonBody(await readBody(request)), deployment);
    const model = isRecord(body) && typeof body.model === 'string' ? body.model : undefined;
    return this.respond(request, control, controls, { endpoint: 'embeddings', model }, false, () => ({
      stream: false,
      body: renderEmbeddings(body),
      initialDelayMs: controls.latency.firstTokenMs,
    }));
  }

  /** Google AI routes: `/v1beta/models/{model}:generateContent`, `:streamGenerateContent?alt=sse`, `:batchEmbedContents`. */
  private async handleGemini(path: string, method: string, request: IncomingMessage, control: ResponseControl): Promise<void> {
    control.errorBody = geminiErrorBody;
    const route = geminiRoute(path);
    if (route === undefined) throw new SimRequestError(404, `Unknown request URL: ${method} ${path}.`);
    if (method !== 'POST') return this.methodNotAllowed(control, method, path, 'POST');
    if (route.method === 'generateContent' || route.method === 'streamGenerateContent') {
      this.stats.chat++;
      const stream = route.method === 'streamGenerateContent';
      const controls = this.readControls(request);
      const body = parseJsonBody(await readBody(request));
      // Google streams as a JSON array unless asked for SSE; clients of a gateway always ask for SSE, so only that is simulated.
      if (stream && !/[?&]alt=sse(&|$)/.test(request.url ?? '')) throw new SimRequestError(400, 'The simulator streams Gemini responses with ?alt=sse only.');
      return this.respond(request, control, controls, { endpoint: 'chat', model: route.model }, stream, (fault) =>
        this.planChat(geminiChatRequest(route.model, body, stream), controls.latency, 'gemini', fault),
      );
    }
    if (route.method === 'batchEmbedContents') {
      this.stats.embeddings++;
      const controls = this.readControls(request);
      const body = parseJsonBody(await readBody(request));
      return this.respond(request, control, controls, { endpoint: 'embeddings', model: route.model }, false, () => ({
        stream: false,
        body: renderGeminiEmbeddings(body),
        initialDelayMs: controls.latency.firstTokenMs,
      }));
    }
    throw new SimRequestError(404, `Method ${route.method} is not found for model ${route.model}.`);
  }

  private planChat(chatRequest: ChatRequest, latency: ResolvedLatency, wire: Wire, fault: FaultSpec | undefined): PlannedResponse {
    const { firstTokenMs, perTokenMs } = latency;
    let plan = planChatCompletion(chatRequest);
    if (fault?.block !== undefined) plan = blockPlan(plan, fault.block);
    const identity: ResponseIdentity = { id: this.nextId(plan), created: Math.floor(Date.now() / 1000), model: chatRequest.model };
    if (wire === 'openai' && plan.promptBlocked) {
      // OpenAI-format services that filter prompts (Azure OpenAI) refuse them with a 400 whose code is `content_filter`.
      const body = errorEnvelope('The response was filtered due to the prompt triggering content management policy.', 'invalid_request_error', 'prompt', 'content_filter');
      return { stream: false, status: 400, body, initialDelayMs: firstTokenMs };
    }
    if (chatRequest.stream !== true) {
      const body = wire === 'anthropic' ? renderAnthropicMessage(plan, identity) : wire === 'gemini' ? renderGeminiResponse(plan, identity) : renderChatCompletion(plan, identity);
      return { stream: false, body, initialDelayMs: firstTokenMs + perTokenMs * plan.usage.completion_tokens };
    }
    const rendered =
      wire === 'anthropic'
        ? renderAnthropicStream(plan, identity)
        : wire === 'gemini'
          ? renderGeminiStream(plan, identity)
          : renderChatStream(plan, identity, chatRequest.stream_options?.include_usage === true);
    return { stream: true, events: rendered.events, initialDelayMs: firstTokenMs, delaysMs: tokenDelays(rendered, perTokenMs) };
  }

  /**
   * Applies the request's fault (if any) and delivers. `plan` validates and renders the real
   * response; it runs only when one is needed, and a SimRequestError from it becomes the 400.
   */
  private respond(
    request: IncomingMessage,
    control: ResponseControl,
    controls: RequestControls,
    target: FaultTarget,
    stream: boolean,
    plan: (fault: FaultSpec | undefined) => PlannedResponse,
  ): void {
    const fault = this.faults.select(controls.faultHeader, target);
    if (fault === undefined) {
      deliver(control, reshapedDelivery(plan(undefined), undefined, this.headers));
      return;
    }
    if (fault.connection === 'reset') {
      this.stats.faulted++;
      control.endedBySim = true;
      request.socket.resetAndDestroy();
      return;
    }
    // Never answering is the fault; the connection-close listener clears up when the client gives up.
    if (fault.hang === 'before-headers') {
      this.stats.faulted++;
      return;
    }
    const replacement = replacementDelivery(fault, stream, this.headers, controls.latency.firstTokenMs, control.errorBody);
    // Reshaping faults need a valid request: an invalid one gets its 400 (thrown by plan) and is not counted as faulted.
    const delivery = replacement ?? reshapedDelivery(plan(fault), fault, this.headers);
    this.stats.faulted++;
    deliver(control, delivery);
  }

  /** Reads x-sim-fault, x-sim-fault-key and x-sim-latency; a malformed one is the caller's 400. */
  private readControls(request: IncomingMessage): RequestControls {
    const latencyText = headerText(request, 'x-sim-latency');
    const latency = latencyText === undefined ? this.config.latency : applyLatencyHeader(latencyText, this.config.latency);
    const faultText = headerText(request, 'x-sim-fault');
    if (faultText === undefined) return { latency, faultHeader: undefined };
    let spec: FaultSpec;
    try {
      spec = this.faults.parseHeader(faultText);
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      throw new SimRequestError(400, `Invalid x-sim-fault header: ${detail}`, { code: 'invalid_sim_fault' });
    }
    return { latency, faultHeader: { text: faultText, spec, key: headerText(request, 'x-sim-fault-key') } };
  }

  private nextId(plan: ChatPlan): string {
    // The hash keeps ids traceable to their request; the sequence keeps two identical requests distinguishable.
    this.sequence = (this.sequence + 1) >>> 0;
    return `chatcmpl-sim-${toHex32(plan.seed)}${toHex32(this.sequence)}`;
  }

  private methodNotAllowed(control: ResponseControl, method: string, path: string, allowed: string): void {
    const message = `Method ${method} is not allowed on ${path}; use ${allowed}.`;
    const body = control.errorBody ? control.errorBody(405, message, null) : errorEnvelope(message, 'invalid_request_error', null, 'method_not_allowed');
    this.sendError(control, 405, body, { allow: allowed });
  }

  private fail(control: ResponseControl, error: unknown): void {
    if (control.response.headersSent || control.response.destroyed) {
      control.response.destroy();
      return;
    }
    if (error instanceof SimRequestError) {
      this.sendError(control, error.status, control.errorBody ? control.errorBody(error.status, error.message, error.code) : envelopeForRequestError(error), {});
      return;
    }
    const message = `Simulator failure: ${error instanceof Error ? error.message : String(error)}`;
    this.sendError(control, 500, control.errorBody ? control.errorBody(500, message, null) : errorEnvelope(message, 'server_error', null, null), {});
  }

  private sendError(control: ResponseControl, status: number, body: string, extraHeaders: OutgoingHttpHeaders): void {
    deliver(control, { status, headers: { ...this.headers.json, ...extraHeaders }, initialDelayMs: 0, pieces: [body], delaysMs: [], ending: 'end' });
  }
}

/** Per-event waits for a stream: perTokenMs before each token event, none before framing (role, block starts, finish, usage, [DONE]). */
function tokenDelays(rendered: RenderedStream, perTokenMs: number): number[] {
  if (perTokenMs <= 0) return [];
  return rendered.tokenEvents.map((isToken) => (isToken ? perTokenMs : 0));
}

const azurePattern = /^\/openai\/deployments\/([^/]+)\/(chat\/completions|embeddings)$/;

/** `/openai/deployments/{deployment}/chat/completions` or `/embeddings` (Azure OpenAI), else undefined. */
function azureRoute(path: string): { deployment: string; endpoint: 'chat' | 'embeddings' } | undefined {
  const match = azurePattern.exec(path);
  if (match === null) return undefined;
  return { deployment: safeDecode(match[1] ?? ''), endpoint: match[2] === 'embeddings' ? 'embeddings' : 'chat' };
}

/** Azure's deployment stands in for the body's model. */
function withModel(body: unknown, deployment: string | undefined): unknown {
  return deployment !== undefined && isRecord(body) ? { ...body, model: deployment } : body;
}
