package io.openshell.gateway;

/**
 * Marker for every message, event, state and reply that may cross a node or reach the journal. Bound
 * to jackson-cbor in reference.conf; nothing is ever Java-serialized.
 */
public interface CborSerializable {}
