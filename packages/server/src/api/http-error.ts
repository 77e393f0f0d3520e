import type { ErrorRequestHandler } from 'express';
import { ErrorCode, MailwrightError, isMailwrightError, type ErrorBody } from '@mailwright/core';
import type { Logger } from '../logger.js';

/** Throws a 4xx MailwrightError. */
export function httpError(statusCode: number, code: ErrorCode, message: string): MailwrightError {
  return new MailwrightError(code, message, { statusCode });
}

/** The one place that maps errors to HTTP responses: `{ error: { code, message } }`. */
export function errorMiddleware(logger: Logger): ErrorRequestHandler {
  return (error: unknown, _request, response, _next) => {
    let status = 500;
    let body: ErrorBody;
    if (isMailwrightError(error)) {
      status = error.statusCode ?? 500;
      body = { error: { code: error.code, message: error.message, ...(error.details === undefined ? {} : { details: error.details }) } };
    } else if ((error as { type?: string }).type === 'entity.parse.failed') {
      status = 400;
      body = { error: { code: ErrorCode.INVALID_REQUEST, message: 'The request body is not valid JSON' } };
    } else if (typeof (error as { status?: unknown }).status === 'number' && (error as { status: number }).status < 500) {
      status = (error as { status: number }).status;
      body = { error: { code: ErrorCode.INVALID_REQUEST, message: (error as Error).message } };
    } else {
      body = { error: { code: ErrorCode.INTERNAL, message: 'Internal server error' } };
    }
    if (status >= 500) logger.error({ err: error }, 'request failed');
    if (response.headersSent) {
      response.destroy();
      return;
    }
    response.status(status).json(body);
  };
}
