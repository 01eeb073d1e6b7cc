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
  void aSliceOfAStreamElementBecomesFrameDataWithTheSameBytes() {
    byte[] bytes = random(64 * 1024);
    org.apache.pekko.util.ByteString slice = org.apache.pekko.util.ByteString.fromArrayUnsafe(bytes).slice(1000, 17384);
    com.google.protobuf.ByteString data = RelayBytes.toFrameData(slice);
    assertEquals(slice.size(), data.size());
    assertEquals(com.google.protobuf.ByteString.copyFrom(bytes, 1000, 16384), data);
  }

  @Test
  void aWholeArrayElementBecomesFrameDataWithoutACopy() throws Exception {
    byte[] bytes = random(16 * 1024);
    com.google.protobuf.ByteString data = RelayBytes.toFrameData(org.apache.pekko.util.ByteString.fromArrayUnsafe(bytes));
    byte[][] shared = new byte[1][];
    com.google.protobuf.UnsafeByteOperations.unsafeWriteTo(data, new com.google.protobuf.ByteOutput() {
      @Override public void write(byte value) {}
      @Override public void write(byte[] value, int offset, int length) {}
      @Override public void writeLazy(byte[] value, int offset, int length) { shared[0] = value; }
      @Override public void write(java.nio.ByteBuffer value) {}
      @Override public void writeLazy(java.nio.ByteBuffer value) {}
    });
    // The relay marshaller then writes this very array into gRPC's buffer.
    assertSame(bytes, shared[0]);
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
    byte[] bytes = random(100_000);
    org.apache.pekko.util.ByteString element = org.apache.pekko.util.ByteString.fromArrayUnsafe(bytes);
    byte[] wire = RelayFrame.newBuilder().setData(RelayBytes.toFrameData(element)).build().toByteArray();
    assertEquals(element, RelayBytes.fromFrameData(RelayFrame.parseFrom(wire).getData()));
  }

  @Test
  void emptyDataStaysEmpty() {
    assertEquals(0, RelayBytes.toFrameData(org.apache.pekko.util.ByteString.emptyByteString()).size());
    assertEquals(0, RelayBytes.fromFrameData(com.google.protobuf.ByteString.EMPTY).size());
  }
}
