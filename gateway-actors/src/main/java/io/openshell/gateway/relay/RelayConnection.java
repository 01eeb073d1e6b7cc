package io.openshell.gateway.relay;

import io.openshell.gateway.CborSerializable;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.SinkRef;
import org.apache.pekko.stream.SourceRef;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.util.ByteString;

/**
 * A claimed relay as the client side gets it: the supervisor's bytes to read and a sink for bytes to
 * the supervisor. Stream references, so the client may sit on another node than the supervisor's
 * connection; on one node the same path is used.
 */
public record RelayConnection(String channelId, SourceRef<ByteString> fromSupervisor, SinkRef<ByteString> toSupervisor)
    implements CborSerializable {

  /**
   * Largest element that enters a stream ref. Between nodes every element is one artery message, and
   * artery drops a message over its frame size (256 KiB) — the stream ref then fails with "Illegal
   * sequence nr". Bigger chunks (a WebSocket message, 4 MiB of exec stdin) are cut first.
   */
  public static final int MAX_ELEMENT_BYTES = 64 * 1024;

  /** Where the client side writes: its bytes cut to {@link #MAX_ELEMENT_BYTES}, then to the supervisor. */
  public Sink<ByteString, NotUsed> sink() {
    return Flow.<ByteString>create().mapConcat(RelayConnection::elements).to(toSupervisor.getSink());
  }

  /** Cuts {@code bytes} into stream-ref elements of at most {@link #MAX_ELEMENT_BYTES} (no copy). */
  public static List<ByteString> elements(ByteString bytes) {
    if (bytes.size() <= MAX_ELEMENT_BYTES) return List.of(bytes);
    List<ByteString> parts = new ArrayList<>(bytes.size() / MAX_ELEMENT_BYTES + 1);
    for (int from = 0; from < bytes.size(); from += MAX_ELEMENT_BYTES) {
      parts.add(bytes.slice(from, Math.min(bytes.size(), from + MAX_ELEMENT_BYTES)));
    }
    return parts;
  }
}
