/** Every entity the ORM maps, derived from the composition root's module list (importing it builds nothing). */
export { entities } from './services.js';
