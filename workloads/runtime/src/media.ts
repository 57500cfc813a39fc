/** Media types of content-addressed DSM objects on the wire (shared by servers and clients). */
export const DAG_CBOR = 'application/vnd.ipld.dag-cbor';
export const DAG_JSON = 'application/vnd.ipld.dag-json';
/** A CAR v1 archive of content-addressed blocks (storage backups). */
export const CAR = 'application/vnd.ipld.car';
