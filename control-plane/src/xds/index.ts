export { AdsServer } from './server.js';
export { buildSnapshot, keepRemoved, rollBackType, selectResources, PUSH_ORDER, type Snapshot } from './snapshot.js';
export { AdsStreamState } from './stream-state.js';
export { DeltaStreamState } from './delta-stream-state.js';
export { ControlChannelCredentials, type ChannelTlsMaterial } from './control-channel.js';
export { FLEET_URI_PREFIX, NODE_URI_PREFIX, nodeRefusal } from './node-identity.js';
export { PeerPolicy } from './peer-policy.js';
