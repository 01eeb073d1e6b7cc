package io.openshell.gateway.relay;

import static io.openshell.gateway.RandomBytes.randomBytes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.openshell.protocol.v1.RelayFrame;
import org.junit.jupiter.api.Test;

class RelayBytesTest {
  @Test
  void aSliceOfAStreamElementBecomesFrameDataWithTheSameBytes() {
    byte[] bytes = randomBytes(64 * 1024);
    org.apache.pekko.util.ByteString slice = org.apache.pekko.util.ByteString.fromArrayUnsafe(bytes).slice(1000, 17384);
    com.google.protobuf.ByteString data = RelayBytes.toFrameData(slice);
    assertEquals(slice.size(), data.size());
    assertEquals(com.google.protobuf.ByteString.copyFrom(bytes, 1000, 16384), data);
  }

  @Test
  void parsedFrameDataBecomesAStreamElementWithoutACopy() throws Exception {
    byte[] bytes = randomBytes(16 * 1024);
    RelayFrame parsed = RelayFrame.parseFrom(RelayFrame.newBuilder().setData(com.google.protobuf.ByteString.copyFrom(bytes)).build().toByteArray());
    org.apache.pekko.util.ByteString element = RelayBytes.fromFrameData(parsed.getData());
    assertEquals(org.apache.pekko.util.ByteString.fromArray(bytes), element);
    // One piece, shared with the frame: asking again yields the very same array.
    assertSame(element.toArrayUnsafe(), RelayBytes.fromFrameData(parsed.getData()).toArrayUnsafe());
  }

  @Test
  void framesSurviveTheRoundTripThroughTheWireFormat() throws Exception {
    byte[] bytes = randomBytes(100_000);
    org.apache.pekko.util.ByteString element = org.apache.pekko.util.ByteString.fromArrayUnsafe(bytes);
    byte[] wire = RelayFrame.newBuilder().setData(RelayBytes.toFrameData(element)).build().toByteArray();
    assertEquals(element, RelayBytes.fromFrameData(RelayFrame.parseFrom(wire).getData()));
  }

  @Test
  void streamElementsOfFewAndOfManyPiecesBecomeFrameDataWithTheSameBytes() {
    for (int pieces : new int[] {2, 3, 8, 9, 1000}) {
      org.apache.pekko.util.ByteString element = org.apache.pekko.util.ByteString.emptyByteString();
      for (int i = 0; i < pieces; i++) {
        element = element.concat(org.apache.pekko.util.ByteString.fromArrayUnsafe(randomBytes(200 + i)).drop(i % 3));
      }
      com.google.protobuf.ByteString data = RelayBytes.toFrameData(element);
      assertEquals(com.google.protobuf.ByteString.copyFrom(element.toArray()), data, pieces + " pieces");
      assertEquals(element, RelayBytes.fromFrameData(data), pieces + " pieces");
    }
  }

  @Test
  void emptyDataStaysEmpty() {
    assertEquals(0, RelayBytes.toFrameData(org.apache.pekko.util.ByteString.emptyByteString()).size());
    assertEquals(0, RelayBytes.fromFrameData(com.google.protobuf.ByteString.EMPTY).size());
  }
}
