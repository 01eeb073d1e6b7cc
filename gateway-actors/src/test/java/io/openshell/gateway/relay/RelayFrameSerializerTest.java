package io.openshell.gateway.relay;

import static io.openshell.gateway.RandomBytes.randomBytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnknownFieldSet;
import io.openshell.protocol.v1.RelayFrame;
import io.openshell.protocol.v1.RelayInit;
import java.io.ByteArrayInputStream;
import java.util.Arrays;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RelayFrameSerializerTest {
  private static final RelayFrameSerializer serializer = RelayFrameSerializer.INSTANCE;

  private static RelayFrame data(byte[] bytes) {
    return RelayFrame.newBuilder().setData(com.google.protobuf.ByteString.copyFrom(bytes)).build();
  }

  /** {@code wire} cut into pieces of {@code piece} bytes, each over its own array: bytes as HTTP/2 frames deliver them. */
  private static ByteString inPieces(byte[] wire, int piece) {
    ByteString rope = ByteString.emptyByteString();
    for (int from = 0; from < wire.length; from += piece) {
      int to = Math.min(wire.length, from + piece);
      byte[] part = new byte[piece + 2];
      System.arraycopy(wire, from, part, 1, to - from);
      rope = rope.concat(ByteString.fromArrayUnsafe(part, 1, to - from));
    }
    return rope;
  }

  // Sizes around the varint length's byte counts: 1 byte up to 127, 2 bytes from 128 to 16383, 3 bytes from 16384 (16 KiB).
  @ParameterizedTest
  @ValueSource(ints = {0, 1, 127, 128, 16383, 16384, 100_000})
  void dataFramesAreEncodedExactlyAsTheGeneratedCodeEncodesThem(int size) {
    RelayFrame frame = data(randomBytes(size));
    assertArrayEquals(frame.toByteArray(), serializer.serialize(frame).toArray());
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 127, 128, 16383, 16384, 100_000})
  void dataFramesParseToWhatTheGeneratedParserGives(int size) throws Exception {
    byte[] wire = data(randomBytes(size)).toByteArray();
    RelayFrame parsed = serializer.deserialize(ByteString.fromArrayUnsafe(wire));
    assertEquals(RelayFrame.parseFrom(wire), parsed);
    assertTrue(parsed.hasData(), "an empty data field is still the data case, as the generated parser has it");
  }

  @Test
  void dataFramesThatArriveInManyPiecesParseToTheSameBytes() throws Exception {
    byte[] wire = data(randomBytes(16384)).toByteArray();
    for (int piece : new int[] {1, 2, 3, 7, 4096, 16383}) {
      RelayFrame parsed = serializer.deserialize(inPieces(wire, piece));
      assertEquals(RelayFrame.parseFrom(wire), parsed, "pieces of " + piece);
      assertEquals(ByteString.fromArray(wire, 4, 16384), RelayBytes.fromFrameData(parsed.getData()), "pieces of " + piece);
    }
  }

  @Test
  void dataMadeOfSeveralPiecesIsEncodedAsOneField() {
    byte[] bytes = randomBytes(20_000);
    ByteString element = inPieces(bytes, 5000).concat(ByteString.fromArrayUnsafe(randomBytes(7)));
    RelayFrame frame = RelayFrame.newBuilder().setData(RelayBytes.toFrameData(element)).build();
    assertArrayEquals(frame.toByteArray(), serializer.serialize(frame).toArray());
    assertArrayEquals(data(element.toArray()).toByteArray(), serializer.serialize(frame).toArray());
  }

  @Test
  void parsedDataSharesTheRequestsBytesInsteadOfCopyingThem() {
    byte[] wire = data(randomBytes(16384)).toByteArray();
    byte[] head = Arrays.copyOfRange(wire, 0, 10_000);
    byte[] tail = Arrays.copyOfRange(wire, 10_000, wire.length);
    ByteString request = ByteString.fromArrayUnsafe(head).concat(ByteString.fromArrayUnsafe(tail));
    ByteString element = RelayBytes.fromFrameData(serializer.deserialize(request).getData());
    // Not a use the relay makes (its arrays never change): the only way to see that no copy was made.
    head[4] ^= 0x5a; // after the tag and the three-byte length
    tail[0] ^= 0x5a;
    assertEquals(head[4], element.apply(0));
    assertEquals(tail[0], element.apply(10_000 - 4));
  }

  @Test
  void encodedDataSharesTheStreamElementsArrayInsteadOfCopyingIt() {
    byte[] bytes = randomBytes(64 * 1024);
    ByteString slice = ByteString.fromArrayUnsafe(bytes).slice(1000, 1000 + 16384);
    RelayFrame frame = RelayFrame.newBuilder().setData(RelayBytes.toFrameData(slice)).build();
    ByteString encoded = serializer.serialize(frame);
    // Not a use the relay makes (its arrays never change): the only way to see that no copy was made.
    bytes[1000] ^= 0x5a;
    assertEquals(bytes[1000], encoded.apply(4)); // after the tag and the three-byte length
  }

  @Test
  void initFramesAreEncodedAndParsedByTheGeneratedCode() throws Exception {
    RelayFrame init = RelayFrame.newBuilder().setInit(RelayInit.newBuilder().setChannelId("c-1")).build();
    assertArrayEquals(init.toByteArray(), serializer.serialize(init).toArray());
    assertEquals(init, serializer.deserialize(ByteString.fromArrayUnsafe(init.toByteArray())));
    assertEquals(init, serializer.deserialize(new ByteArrayInputStream(init.toByteArray())));
  }

  @Test
  void framesWithUnknownFieldsKeepThemBothWays() throws Exception {
    UnknownFieldSet unknown = UnknownFieldSet.newBuilder()
        .addField(3, UnknownFieldSet.Field.newBuilder().addVarint(42).build()).build();
    RelayFrame frame = data(randomBytes(100)).toBuilder().setUnknownFields(unknown).build();
    byte[] wire = frame.toByteArray();
    assertArrayEquals(wire, serializer.serialize(frame).toArray());
    RelayFrame parsed = serializer.deserialize(ByteString.fromArrayUnsafe(wire));
    assertEquals(RelayFrame.parseFrom(wire), parsed);
    assertEquals(unknown, parsed.getUnknownFields());
  }

  @Test
  void severalFieldsInOneMessageParseAsTheGeneratedParserHasThem() throws Exception {
    byte[] first = data(randomBytes(10)).toByteArray();
    byte[] second = data(randomBytes(20)).toByteArray();
    byte[] init = RelayFrame.newBuilder().setInit(RelayInit.newBuilder().setChannelId("c-2")).build().toByteArray();
    for (byte[] wire : new byte[][] {concat(first, second), concat(init, first), concat(first, init)}) {
      assertEquals(RelayFrame.parseFrom(wire), serializer.deserialize(ByteString.fromArrayUnsafe(wire)));
    }
  }

  @Test
  void aLengthWrittenInMoreBytesThanNeededParsesAsTheGeneratedParserHasIt() throws Exception {
    byte[] wire = {0x12, (byte) 0x83, 0x00, 'a', 'b', 'c'};
    assertEquals(RelayFrame.parseFrom(wire), serializer.deserialize(ByteString.fromArrayUnsafe(wire)));
  }

  @Test
  void malformedFramesFailWithTheGeneratedParsersError() {
    byte[][] malformed = {
        {0x12, 0x7f, 0x01}, // length 127, one byte follows
        {0x12, 0x02, 0x01, 0x02, 0x03}, // a byte after the field that is no field
        {0x12, (byte) 0x80}, // the length ends early
        {0x12, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x01},
        {0x0f}, // wire type 7 does not exist
    };
    for (byte[] wire : malformed) {
      assertThrows(InvalidProtocolBufferException.class, () -> RelayFrame.parseFrom(wire));
      assertThrows(InvalidProtocolBufferException.class, () -> serializer.deserialize(ByteString.fromArrayUnsafe(wire)));
    }
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] both = new byte[a.length + b.length];
    System.arraycopy(a, 0, both, 0, a.length);
    System.arraycopy(b, 0, both, a.length, b.length);
    return both;
  }
}
