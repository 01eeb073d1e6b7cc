package io.openshell.supervisor.relay;

import com.google.protobuf.ByteOutput;
import com.google.protobuf.UnsafeByteOperations;
import java.nio.ByteBuffer;

/**
 * Relay bytes into protobuf's {@code ByteString} and from it into Pekko's without copying them: both are
 * immutable, so a socket read, the frame and the stream element may share one array. The allocation
 * profile of a bulk relay (docs/benchmarks.md) had these conversions copying every relayed byte twice on
 * each side.
 */
final class RelayBytes {
  private RelayBytes() {}

  /**
   * A socket read as a frame's data field: a view of {@code read}, which nothing else writes to once it
   * is handed over, so the relay marshaller drains this very array into gRPC's buffer.
   */
  static com.google.protobuf.ByteString fromSocketRead(byte[] read, int length) {
    return UnsafeByteOperations.unsafeWrap(read, 0, length);
  }

  /** A frame's data field as a stream element (the same array when protobuf holds it in one piece). */
  static org.apache.pekko.util.ByteString fromFrameData(com.google.protobuf.ByteString data) {
    Collector collector = new Collector();
    try {
      UnsafeByteOperations.unsafeWriteTo(data, collector);
    } catch (java.io.IOException impossible) {
      throw new IllegalStateException(impossible);
    }
    return collector.bytes;
  }

  /** Receives protobuf's pieces: lazily (no copy) where protobuf allows, copied where it asks to. */
  private static final class Collector extends ByteOutput {
    private org.apache.pekko.util.ByteString bytes = org.apache.pekko.util.ByteString.emptyByteString();

    @Override
    public void write(byte value) {
      bytes = bytes.concat(org.apache.pekko.util.ByteString.fromArray(new byte[] {value}));
    }

    @Override
    public void write(byte[] value, int offset, int length) {
      bytes = bytes.concat(org.apache.pekko.util.ByteString.fromArray(value, offset, length));
    }

    @Override
    public void writeLazy(byte[] value, int offset, int length) {
      bytes = bytes.concat(org.apache.pekko.util.ByteString.fromArrayUnsafe(value, offset, length));
    }

    @Override
    public void write(ByteBuffer value) {
      bytes = bytes.concat(org.apache.pekko.util.ByteString.fromByteBuffer(value));
    }

    @Override
    public void writeLazy(ByteBuffer value) {
      write(value);
    }
  }
}
