/** The shipped API's entry (scripts/build-api.ts bundles it): the Node server as a process. */
import { runNodeServer } from './node.ts';

void runNodeServer();
