import { html, type SafeHtml } from '../html.js';
import { layout, type PageContext } from './layout.js';

const TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Sign-in required',
  403: 'Not allowed',
  404: 'Not found',
  409: 'Not possible now',
  413: 'Too large',
};

/** An error as a page: what went wrong, in a sentence, and the way back. */
export function errorPage(context: PageContext, status: number, message: string | null): SafeHtml {
  const title = TITLES[status] ?? 'Something went wrong';
  const text = message ?? (status === 404 ? 'There is nothing here you can see.' : 'The dashboard could not show this page. Try again later.');
  return layout(context, title, html`<h1>${title}</h1>
<p>${text}</p>
<p><a href="${context.base}">Back to the subscriptions</a></p>`);
}
