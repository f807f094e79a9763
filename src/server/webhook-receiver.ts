/** The slice of Probot's `app.webhooks` (@octokit/webhooks) the server uses, so the HTTP
 * layer does not depend on Probot. */
export interface WebhookReceiver {
  verify(payload: string, signature: string): Promise<boolean>;
  verifyAndReceive(event: {
    readonly id: string;
    readonly name: string;
    readonly payload: string;
    readonly signature: string;
  }): Promise<void>;
}
