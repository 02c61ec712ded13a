// Checks the patched mediasoup SeqManager (cityconf patch): 15-bit VP8/VP9 picture ids keep their
// order and a gap-free rewrite across the wrap 32767 → 0; full-width managers behave as before.
// Built and run by sfu/test/worker-patches.test.ts against node_modules/mediasoup/worker.
#include "RTC/SeqManager.hpp"
#include <cstdio>
#include <cstdlib>

static int failures = 0;

#define EXPECT(cond)                                                          \
	do                                                                        \
	{                                                                         \
		if (!(cond))                                                          \
		{                                                                     \
			std::fprintf(stderr, "FAILED %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			failures++;                                                       \
		}                                                                     \
	} while (0)

using PictureIds = RTC::SeqManager<uint16_t, 15>;
using SeqNumbers = RTC::SeqManager<uint16_t>;

int main()
{
	// Ordering at the 15-bit wrap.
	EXPECT(PictureIds::MaxValue == 32767);
	EXPECT(PictureIds::IsSeqHigherThan(0, 32767));
	EXPECT(PictureIds::IsSeqLowerThan(32767, 0));
	EXPECT(PictureIds::IsSeqHigherThan(5, 32760));
	EXPECT(!PictureIds::IsSeqLowerThan(3, 32766));
	EXPECT(PictureIds::IsSeqLowerThan(100, 200));

	// Forwarding every picture across the wrap: outputs follow, maxInput moves past the wrap.
	{
		PictureIds ids;
		uint16_t out = 0;
		ids.Sync(32765 - 1);
		uint16_t first = 0;
		EXPECT(ids.Input(32765, first));
		uint16_t expected = first;
		for (uint16_t input : { 32766, 32767, 0, 1, 2 })
		{
			expected = (expected + 1) & PictureIds::MaxValue;
			EXPECT(ids.Input(input, out));
			EXPECT(out == expected);
		}
		EXPECT(ids.GetMaxInput() == 2);
		// A later picture is not mistaken for an old one after the wrap.
		EXPECT(!PictureIds::IsSeqLowerThan(3, ids.GetMaxInput()));
	}

	// Dropping pictures (higher temporal layers) across the wrap leaves no gap in the output.
	{
		PictureIds ids;
		uint16_t out = 0;
		ids.Sync(32764 - 1);
		uint16_t first = 0;
		EXPECT(ids.Input(32764, first));
		ids.Drop(32765);
		ids.Drop(32766);
		EXPECT(ids.Input(32767, out));
		EXPECT(out == ((first + 1) & PictureIds::MaxValue));
		ids.Drop(0);
		EXPECT(ids.Input(1, out));
		EXPECT(out == ((first + 2) & PictureIds::MaxValue));
		EXPECT(!ids.Input(0, out)); // a dropped picture is never sent
		EXPECT(ids.GetMaxInput() == 1);
	}

	// Sync with 'pictureId - 1' for picture id 0 lands on 32767, not 65535.
	{
		PictureIds ids;
		uint16_t out = 0;
		ids.Sync(static_cast<uint16_t>(0 - 1));
		EXPECT(ids.GetMaxInput() == 32767);
		EXPECT(ids.Input(0, out));
		EXPECT(out <= PictureIds::MaxValue);
	}

	// Full-width RTP sequence numbers are unchanged: wrap at 65535.
	{
		EXPECT(SeqNumbers::MaxValue == 65535);
		EXPECT(SeqNumbers::IsSeqHigherThan(0, 65535));
		SeqNumbers seqs;
		uint16_t out = 0;
		seqs.Sync(65534 - 1);
		uint16_t first = 0;
		EXPECT(seqs.Input(65534, first));
		seqs.Drop(65535);
		EXPECT(seqs.Input(0, out));
		EXPECT(out == static_cast<uint16_t>(first + 1));
	}

	if (failures == 0)
		std::printf("seq-manager: all checks passed\n");
	return failures == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
