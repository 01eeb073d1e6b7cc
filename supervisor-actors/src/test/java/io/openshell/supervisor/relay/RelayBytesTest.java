package io.openshell.supervisor.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.openshell.protocol.v1.RelayFrame;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RelayBytesTest {
  private static byte[] random(int size) {
    byte[] bytes = new byte[size];
    new Random(size).nextBytes(bytes);
    return bytes;
  }

  @Test
  void aSocketReadBecomesFrameDataWithoutACopy() throws Exception {
    byte[] read = random(16 * 1024);
    com.google.protobuf.ByteString data = RelayBytes.fromSocketRead(read, 10_000);
    assertEquals(com.google.protobuf.ByteString.copyFrom(read, 0, 10_000), data);
    byte[][] shared = new byte[1][];
    com.google.protobuf.UnsafeByteOperations.unsafeWriteTo(data, new com.google.protobuf.ByteOutput() {
      @Override public void write(byte value) {}
      @Override public void write(byte[] value, int offset, int length) {}
      @Override public void writeLazy(byte[] value, int offset, int length) { shared[0] = value; }
      @Override public void write(java.nio.ByteBuffer value) {}
      @Override public void writeLazy(java.nio.ByteBuffer value) {}
    });
    // The relay marshaller then writes this very array into gRPC's buffer.
    assertSame(read, shared[0]);
  }

  @Test
  void parsedFrameDataBecomesAStreamElementWithoutACopy() throws Exception {
    byte[] bytes = random(16 * 1024);
    RelayFrame parsed = RelayFrame.parseFrom(RelayFrame.newBuilder().setData(com.google.protobuf.ByteString.copyFrom(bytes)).build().toByteArray());
    org.apache.pekko.util.ByteString element = RelayBytes.fromFrameData(parsed.getData());
    assertEquals(org.apache.pekko.util.ByteString.fromArray(bytes), element);
    // One piece, shared with the frame: asking again yields the very same array.
    assertSame(element.toArrayUnsafe(), RelayBytes.fromFrameData(parsed.getData()).toArrayUnsafe());
  }

  @Test
  void framesSurviveTheRoundTripThroughTheWireFormat() throws Exception {
    byte[] read = random(100_000);
    byte[] wire = RelayFrame.newBuilder().setData(RelayBytes.fromSocketRead(read, read.length)).build().toByteArray();
    assertEquals(org.apache.pekko.util.ByteString.fromArray(read), RelayBytes.fromFrameData(RelayFrame.parseFrom(wire).getData()));
  }

  @Test
  void emptyDataStaysEmpty() {
    assertEquals(0, RelayBytes.fromSocketRead(new byte[16], 0).size());
    assertEquals(0, RelayBytes.fromFrameData(com.google.protobuf.ByteString.EMPTY).size());
  }
}
