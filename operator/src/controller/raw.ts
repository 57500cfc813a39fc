/**
 * Requests to the apiserver with plain JSON bodies and answers. client-node's typed serializer maps known
 * kinds through its models: it drops fields it spells differently (a NetworkPolicy rule's `from` is
 * `_from` there, so an applied policy lost its peers and allowed everything) and keys it does not model
 * (`x-kubernetes-*` in a CRD schema). The operator reads and writes what the constructs produce, as it is.
 */
import {
  ApiException,
  HttpMethod,
  IsomorphicFetchHttpLibrary,
  RequestContext,
  type KubeConfig,
} from '@kubernetes/client-node';

export interface RawOptions {
  query?: Record<string, string | undefined>;
  body?: unknown;
  contentType?: string;
}

const http = new IsomorphicFetchHttpLibrary();

/** `method path` with `body` as JSON; the parsed answer, or an ApiException carrying the Status. */
export async function rawRequest<T = unknown>(
  kubeConfig: KubeConfig,
  method: HttpMethod,
  path: string,
  options: RawOptions = {},
): Promise<T> {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const url = new URL(cluster.server + path);
  for (const [key, value] of Object.entries(options.query ?? {}))
    if (value !== undefined) url.searchParams.set(key, value);
  const context = new RequestContext(url.toString(), method);
  context.setHeaderParam('Accept', 'application/json');
  if (options.body !== undefined) {
    context.setHeaderParam('Content-Type', options.contentType ?? 'application/json');
    context.setBody(JSON.stringify(options.body));
  }
  await kubeConfig.applySecurityAuthentication(context);
  const response = await http.send(context).toPromise();
  const text = await response.body.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    // not JSON: keep the text for the error
  }
  if (response.httpStatusCode < 200 || response.httpStatusCode > 299) {
    const message = (parsed as { message?: string } | undefined)?.message ?? text;
    throw new ApiException(
      response.httpStatusCode,
      `${method} ${path}: HTTP ${response.httpStatusCode}: ${message}`,
      parsed,
      response.headers,
    );
  }
  return parsed as T;
}

export { HttpMethod };
