/** Small networking helpers shared by the benches that start servers by port: the tests' one `freePort`. */
export { freePort } from '../../test/free-port.ts';
