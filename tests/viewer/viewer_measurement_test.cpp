// The caliper interactor on its own (MeasurementInteractor, the MITK-style split of the slice
// view's calipers): a fake slice where one widget pixel is one millimetre, so every expected
// length below is worked out by hand from the pixel coordinates.
#include "../../viewer/gui/src/MeasurementInteractor.h"

#include <gtest/gtest.h>

namespace {

struct FlatSlice : vg::SliceProjection {
    int slice = 7;
    vc::Point3 patientAt(QPointF w) const override { return {w.x(), w.y(), 70.0}; }
    QPointF widgetOf(const vc::Point3& p) const override { return {p[0], p[1]}; }
    bool onImage(QPointF w) const override { return w.x() >= 0 && w.y() >= 0 && w.x() < 512 && w.y() < 512; }
    int acquiredSlice() const override { return slice; }
    vc::Point3 normal() const override { return {0, 0, 1}; }
};

} // namespace

TEST(MeasurementInteractor, DrawsSelectsEditsAndMovesACaliper) {
    vc::MeasurementSet data;
    vg::MeasurementInteractor it(data);
    FlatSlice slice;
    it.setTool(vg::SliceView::Tool::LongAxis);
    it.setImageReferences("1.2.3", std::vector<std::string>(10, "sop"));
    ASSERT_TRUE(it.press({10, 10}, slice));
    it.move({50, 40}, slice); // 40 x 30: 50 mm
    ASSERT_TRUE(it.release());
    ASSERT_EQ(data.all().size(), 1u);
    const vc::Measurement& m = data.all().front();
    EXPECT_NEAR(m.longMm(), 50.0, 1e-9);
    EXPECT_EQ(m.slice, 7);
    EXPECT_EQ(m.seriesUid, "1.2.3");
    EXPECT_EQ(m.sopUid, "sop");
    EXPECT_EQ(it.selected(), m.id);
    // a press within 8 px of an end grips that end; dragging it to (10, 70) makes it 60 mm
    const auto [id, grip] = it.hit({48, 41}, slice);
    EXPECT_EQ(id, m.id);
    EXPECT_EQ(grip, vg::MeasurementInteractor::Grip::B);
    ASSERT_TRUE(it.press({48, 41}, slice));
    it.move({10, 70}, slice);
    ASSERT_TRUE(it.release());
    EXPECT_NEAR(data.all().front().longMm(), 60.0, 1e-9);
    // a press on its line (not near an end) moves it whole: the length stays
    ASSERT_TRUE(it.press({10, 40}, slice));
    it.move({30, 40}, slice);
    it.release();
    EXPECT_NEAR(data.all().front().longMm(), 60.0, 1e-9);
    EXPECT_NEAR(data.all().front().a[0], 30.0, 1e-9);
    EXPECT_TRUE(data.undo()); // the move is one undoable step
    EXPECT_NEAR(data.all().front().a[0], 10.0, 1e-9);
}

TEST(MeasurementInteractor, AClickIsNotAMeasurementAndNothingIsDrawnWhereItCannotBe) {
    vc::MeasurementSet data;
    vg::MeasurementInteractor it(data);
    FlatSlice slice;
    // no tool: a press on empty image is not the interactor's (it windows) and clears the selection
    EXPECT_FALSE(it.press({100, 100}, slice));
    it.setTool(vg::SliceView::Tool::LongAxis);
    ASSERT_TRUE(it.press({100, 100}, slice));
    it.move({100.5, 100}, slice); // half a millimetre
    it.release();
    EXPECT_TRUE(data.all().empty());
    EXPECT_FALSE(it.press({600, 600}, slice)) << "off the image";
    slice.slice = -1; // a reformatted plane
    EXPECT_FALSE(it.press({100, 100}, slice));
    slice.slice = 7;
    it.setEditable(false); // a signed read
    EXPECT_FALSE(it.press({100, 100}, slice));
    EXPECT_TRUE(data.all().empty());
}

TEST(MeasurementInteractor, ANodeGetsAShortAxisPerpendicularToItsLongAxis) {
    vc::MeasurementSet data;
    vg::MeasurementInteractor it(data);
    FlatSlice slice;
    it.setTool(vg::SliceView::Tool::Bidimensional);
    ASSERT_TRUE(it.press({0, 0}, slice));
    it.move({40, 0}, slice); // long axis 40 mm along x; proposed short axis 0.6 x 40 = 24 mm along y
    ASSERT_TRUE(it.release());
    const vc::Measurement& m = data.all().front();
    EXPECT_NEAR(m.longMm(), 40.0, 1e-9);
    EXPECT_NEAR(m.shortMm(), 24.0, 1e-6);
    EXPECT_NEAR(m.c[0], m.d[0], 1e-9) << "perpendicular: both short-axis ends at the same x";
}

TEST(MeasurementInteractor, APointIsPlacedByAClickAndMovedWhole) {
    vc::MeasurementSet data;
    vg::MeasurementInteractor it(data);
    FlatSlice slice;
    it.setTool(vg::SliceView::Tool::Point);
    ASSERT_TRUE(it.press({120, 80}, slice));
    ASSERT_TRUE(it.release()); // a click, no drag: a point is where a lesion is
    ASSERT_EQ(data.all().size(), 1u);
    const vc::Measurement m = data.all().front();
    EXPECT_EQ(m.kind, vc::Measurement::Kind::Point);
    EXPECT_EQ(m.a, m.b);
    EXPECT_NEAR(m.a[0], 120, 1e-9);
    EXPECT_DOUBLE_EQ(m.longMm(), 0);
    it.setTool(vg::SliceView::Tool::None);
    const auto [id, grip] = it.hit({123, 82}, slice);
    EXPECT_EQ(id, m.id);
    EXPECT_EQ(grip, vg::MeasurementInteractor::Grip::Move);
    ASSERT_TRUE(it.press({123, 82}, slice));
    it.move({150, 90}, slice);
    ASSERT_TRUE(it.release());
    EXPECT_NEAR(data.all().front().a[0], 150, 1e-9);
    EXPECT_EQ(data.all().front().a, data.all().front().b) << "moved whole";
}
