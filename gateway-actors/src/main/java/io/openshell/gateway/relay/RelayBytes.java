package io.openshell.gateway.relay;

import com.google.protobuf.ByteOutput;
import com.google.protobuf.UnsafeByteOperations;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;

/**
 * Relay bytes between Pekko's {@code ByteString} and protobuf's without copying them: both are immutable,
 * so the frame and the stream element may share one array. The allocation profile of a bulk relay
 * (docs/benchmarks.md) had these conversions copying every relayed byte twice on each side.
 */
final class RelayBytes {
  /**
   * More pieces than this are copied into one array instead: a rope of many small pieces (keystrokes
   * joined by a slow reader) is cheaper to copy than to walk piece by piece, and relay frames have a few.
   */
  private static final int MAX_SHARED_PIECES = 8;

  private RelayBytes() {}

  /**
   * The bytes as a frame's data field over the same arrays, so that {@link #fromFrameData} and the
   * frame's serializer ({@link RelayFrameSerializer}) can hand those arrays on again without a copy.
   */
  static com.google.protobuf.ByteString toFrameData(org.apache.pekko.util.ByteString bytes) {
    if (bytes.isEmpty()) return com.google.protobuf.ByteString.EMPTY;
    Iterable<ByteBuffer> views = bytes.getByteBuffers();
    int pieces = 0;
    for (ByteBuffer ignored : views) pieces++;
    if (pieces == 1) return shared(bytes);
    if (pieces > MAX_SHARED_PIECES) return UnsafeByteOperations.unsafeWrap(bytes.toArrayUnsafe());
    com.google.protobuf.ByteString data = com.google.protobuf.ByteString.EMPTY;
    int from = 0;
    for (ByteBuffer view : views) {
      int to = from + view.remaining();
      // A slice within one piece of a rope may still come wrapped as a rope; its iterator unwraps it.
      data = data.concat(shared(bytes.slice(from, to).iterator().toByteString()));
      from = to;
    }
    return data;
  }

  /**
   * One piece (one backing array) as protobuf bytes over that array. Pekko offers no accessor for the
   * array of a slice ({@code asByteBuffer} is read-only, which protobuf could only copy), but the
   * piece's {@code ByteArrayInputStream} writes its array to the stream it transfers to in one call
   * (JDK 17). Only one write of the whole piece is kept: a JDK that hands over a fresh copy instead
   * (newer ones do, for streams outside java.base) gives a copy, as before, and several writes (a
   * buffer it reuses) give the read-only view, which protobuf copies later. Never wrong, at worst a copy.
   */
  private static com.google.protobuf.ByteString shared(org.apache.pekko.util.ByteString piece) {
    InputStream stream = piece.asInputStream();
    if (stream.getClass() == ByteArrayInputStream.class) {
      SingleWrite write = new SingleWrite();
      try {
        stream.transferTo(write);
      } catch (java.io.IOException impossible) {
        throw new IllegalStateException(impossible);
      }
      if (write.calls == 1 && write.length == piece.size()) {
        return UnsafeByteOperations.unsafeWrap(write.array, write.offset, write.length);
      }
    }
    return UnsafeByteOperations.unsafeWrap(piece.asByteBuffer());
  }

  /** Remembers the one array written to it, without copying it. */
  private static final class SingleWrite extends OutputStream {
    private int calls;
    private byte[] array;
    private int offset;
    private int length;

    @Override
    public void write(int value) {
      calls = 2; // never one array
    }

    @Override
    public void write(byte[] value, int offset, int length) {
      calls++;
      this.array = value;
      this.offset = offset;
      this.length = length;
    }
  }

  /** A frame's data field as a stream element (the same arrays when protobuf holds them on the heap). */
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
