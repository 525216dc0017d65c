import type { paths } from './openapi';

/** A path's route: the path up to its query. */
type Route<T extends string> = T extends `${infer P}?${string}` ? P : T;
/** `T` when its route is one the API documents, else `never` (a call with it does not type-check). */
export type Documented<T extends string> = Route<T> extends keyof paths ? T : never;
type Json<R> = R extends { content: { 'application/json': infer A } } ? A : never;
/** The JSON of an operation's success (200, 201 or 202). */
type Success<Op> = Op extends { responses: infer Rs } ? Json<Rs[Extract<keyof Rs, 200 | 201 | 202>]> : never;
/** The JSON a GET of `T` answers on success. */
export type GetAnswer<T extends string> = Route<T> extends keyof paths
  ? paths[Route<T>] extends { get: infer Op } ? Success<Op> : never
  : never;
/** The JSON body a POST to `T` takes. */
export type PostBody<T extends string> = Route<T> extends keyof paths
  ? paths[Route<T>] extends { post: { requestBody?: infer B } } ? Json<NonNullable<B>> : never
  : never;
/** The JSON a POST to `T` answers on success. */
export type PostAnswer<T extends string> = Route<T> extends keyof paths
  ? paths[Route<T>] extends { post: infer Op } ? Success<Op> : never
  : never;
/** An error body the API answers with (4xx, 5xx). */
export type ErrorBody = import('./openapi').components['schemas']['ErrorBody'];
/** What `post` resolves to: the 200 answer, or the error body with the status. */
export type Posted<T extends string> =
  | { ok: true; status: number; body: PostAnswer<T> }
  | { ok: false; status: number; body: ErrorBody | null };

/** An injected EIP-1193 provider (MetaMask, Rabby, Frame), as the wallet app uses it. */
export interface Eip1193Provider {
  request(args: { method: string; params?: unknown[] }): Promise<any>;
  on?(event: string, listener: (value: any) => void): void;
}

declare global {
  interface Window {
    ethereum?: Eip1193Provider;
    uPlot?: any;
  }
}
