/**
 * The catalogue's descriptions live apart from catalogue.ts (functions bundle the catalogue, not its words):
 * every route, path parameter and header the catalogue declares has one, and none describes something gone.
 */
import {
  FUNCTIONS,
  HEADER_PARAMETERS,
  PATH_PARAMETERS,
  QUEUES,
  ROUTES,
  SECRETS,
  routeKey,
} from '../../../functions/shared/catalogue';
import {
  FUNCTION_DESCRIPTIONS,
  HEADER_PARAMETER_DESCRIPTIONS,
  PATH_PARAMETER_DESCRIPTIONS,
  QUEUE_DESCRIPTIONS,
  ROUTE_DESCRIPTIONS,
  SECRET_DOCS,
  routeDescription,
} from '../../../functions/shared/catalogue-docs';

const sorted = (keys: Iterable<string>): string[] => [...keys].sort();

test('every route has a description, and every description names a route', () => {
  expect(sorted(ROUTE_DESCRIPTIONS.keys())).toEqual(sorted(ROUTES.map(routeKey)));
  for (const route of ROUTES) expect(routeDescription(route)).toMatch(/\w{3}/);
});

test('a route without a description is named in the error', () => {
  expect(() => routeDescription({ method: 'GET', path: '/nowhere' })).toThrow('GET /nowhere');
});

test('every path parameter and request header has a description, and none describes one that is gone', () => {
  expect(sorted(PATH_PARAMETER_DESCRIPTIONS.keys())).toEqual(sorted(PATH_PARAMETERS.keys()));
  expect(sorted(HEADER_PARAMETER_DESCRIPTIONS.keys())).toEqual(sorted(HEADER_PARAMETERS.map((h) => h.name)));
  for (const description of [
    ...PATH_PARAMETER_DESCRIPTIONS.values(),
    ...HEADER_PARAMETER_DESCRIPTIONS.values(),
  ]) {
    expect(description).toMatch(/\w{3}/);
  }
});

test('functions, queues and secrets are described exactly as the catalogue lists them', () => {
  expect(sorted(Object.keys(FUNCTION_DESCRIPTIONS))).toEqual(sorted(Object.keys(FUNCTIONS)));
  expect(sorted(Object.keys(QUEUE_DESCRIPTIONS))).toEqual(sorted(Object.keys(QUEUES)));
  expect(sorted(Object.keys(SECRET_DOCS))).toEqual(sorted(Object.keys(SECRETS)));
  for (const doc of Object.values(SECRET_DOCS)) expect(Object.keys(doc.shape).length).toBeGreaterThan(0);
});
