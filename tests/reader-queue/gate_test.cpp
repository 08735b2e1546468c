// The image gate's URI rules (gate/Gate.h), without servers: what counts as a plain DICOMweb
// path. The whole gate is tried against the real nginx and Orthanc with curl in ImageGate.*.
#include "gate/Gate.h"

#include <gtest/gtest.h>

TEST(GateUri, PlainPathsAreSplitAndDecodedAndTricksAreNotPaths) {
    auto p = gate::parseUri("/dicom-web/studies/1.2.3/series/4.5.6/instances/7.8/frames/1,2,3?includefield=00080060&x=a%20b+c");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->segments, (std::vector<std::string>{"dicom-web", "studies", "1.2.3", "series", "4.5.6", "instances", "7.8", "frames", "1,2,3"}));
    ASSERT_EQ(p->query.size(), 2u);
    EXPECT_EQ(p->query[0], (std::pair<std::string, std::string>{"includefield", "00080060"}));
    EXPECT_EQ(p->query[1].second, "a b c");
    // a comma only in a frame list: a UID list would be a list match in the gate's own lookup
    EXPECT_FALSE(gate::parseUri("/dicom-web/studies/1.2.3,4.5.6/series"));
    for (const char* bad : {"/dicom-web/studies/../patients", "/dicom-web/studies/./x", "/dicom-web/studies/%2e%2e/x", "/dicom-web//studies", "/dicom-web/studies/1%2F2",
                            "/dicom-web/studies/%", "/dicom-web/studies/%zz", "dicom-web/studies",
                            "/dicom-web/studies/1 2", "/dicom-web/studies/1#x", "", "/dicom-web/studies/"})
        EXPECT_FALSE(gate::parseUri(bad)) << bad;
    EXPECT_FALSE(gate::parseUri("/dicom-web/studies?a=%zz"));
}
