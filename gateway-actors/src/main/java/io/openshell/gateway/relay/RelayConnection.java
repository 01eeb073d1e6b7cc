package io.openshell.gateway.relay;

import io.openshell.gateway.CborSerializable;
import org.apache.pekko.stream.SinkRef;
import org.apache.pekko.stream.SourceRef;
import org.apache.pekko.util.ByteString;

/**
 * A claimed relay as the client side gets it: the supervisor's bytes to read and a sink for bytes to
 * the supervisor. Stream references, so the client may sit on another node than the supervisor's
 * connection; on one node the same path is used.
 */
public record RelayConnection(String channelId, SourceRef<ByteString> fromSupervisor, SinkRef<ByteString> toSupervisor)
    implements CborSerializable {}
