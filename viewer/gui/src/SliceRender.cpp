// The slice view's drawing and camera: the windowed slice as one textured quad drawn straight
// into VTK's framebuffer, the text overlays laid out around it, zoom about a point, fit.
#include "SliceViewImpl.h"

namespace vg {

void SliceView::Impl::zoomAbout(QPointF p, double fromScale, double fromFocalX, double fromFocalY, double toScale) {
    const double ox = p.x() * dpr() - deviceWidth() / 2.0, oy = p.y() * dpr() - deviceHeight() / 2.0;
    const double fromPpm = deviceHeight() / 2.0 / fromScale, toPpm = deviceHeight() / 2.0 / toScale;
    const double mx = ox / fromPpm + fromFocalX, my = oy / fromPpm + fromFocalY;
    scale = toScale;
    focalX = mx - ox / toPpm;
    focalY = my - oy / toPpm;
}

void SliceView::Impl::setupScene() {
    window->SetMultiSamples(0);
    window->AddRenderer(renderer);
    renderer->SetBackground(0, 0, 0);
    renderer->SetBackgroundAlpha(1);
    vtkCamera* cam = renderer->GetActiveCamera();
    cam->ParallelProjectionOn();
    for (OverlayText* t : {&caption, &info, &values, &cursor, &labels[0], &labels[1], &labels[2], &labels[3]})
        renderer->AddViewProp(t->prop());
    mapper.attach(renderer, dpr());
    layoutText();
}

void SliceView::Impl::layoutText() {
    const int w = deviceWidth(), h = deviceHeight(), m = static_cast<int>(8 * dpr());
    laidOutWidth = w, laidOutHeight = h;
    const int size = static_cast<int>(std::lround(14 * dpr())), big = static_cast<int>(std::lround(18 * dpr()));
    const QColor text(242, 230, 140), label(140, 217, 255);
    caption.setStyle(text, size + 2, true);
    for (OverlayText* t : {&info, &values, &cursor}) t->setStyle(text, size, false);
    for (auto& l : labels) l.setStyle(label, big, true);
    caption.place(OverlayText::TopLeft, m, h - m);
    info.place(OverlayText::BottomLeft, m, m);
    values.place(OverlayText::BottomRight, w - m, m);
    cursor.place(OverlayText::TopRight, w - m, h - m);
    labels[0].place(OverlayText::Left, m, h / 2);
    labels[1].place(OverlayText::Right, w - m, h / 2);
    labels[2].place(OverlayText::Top, w / 2, h - m - static_cast<int>(22 * dpr()));
    labels[3].place(OverlayText::Bottom, w / 2, m + static_cast<int>(22 * dpr()));
}

void SliceView::Impl::rebuildFrame() {
    if (!volume) return;
    frame = vc::sliceFrame(volume->geometry, plane);
    pixels.assign(static_cast<std::size_t>(frame.width) * static_cast<std::size_t>(frame.height), 0);
    const auto l = vc::edgeLabels(frame);
    for (std::size_t i = 0; i < 4; ++i) labels[i].setText(QString::fromStdString(l[i]));
    readySlice = -1;
    const std::ptrdiff_t sliceStride = static_cast<std::ptrdiff_t>(volume->geometry.nx) * volume->geometry.ny;
    if (!complete && readyZ >= 0 && std::abs(frame.strideK) == sliceStride) // this plane steps through the acquired slices
        readySlice = frame.strideK > 0 ? readyZ : frame.count - 1 - readyZ;
    fitted = false;
    imageDirty = true;
}

void SliceView::Impl::updateImage() {
    if (!volume || !imageDirty) return;
    imageDirty = false;
    if (!canShow(k)) return;
    grey.set(wl);
    vc::renderSlice(*volume, frame, k, grey, pixels.data());
    pixelsDirty = true;
}

void SliceView::Impl::updateText() {
    if (!volume) {
        for (OverlayText* t : {&caption, &info, &values, &cursor}) t->setText({});
        for (auto& l : labels) l.setText({});
        return;
    }
    caption.setText(captionText);
    const char axis = "XYZ"[frame.axisK];
    QString s = QStringLiteral("%1  %2/%3  %4 %5 mm")
                    .arg(QString::fromLatin1(vc::planeName(plane)))
                    .arg(k + 1)
                    .arg(frame.count)
                    .arg(QChar::fromLatin1(axis))
                    .arg(mm(frame.position(k)));
    // short enough not to run into the window/zoom corner: the spacing only when it differs
    QString t;
    if (plane == vc::Plane::Axial && thickness > 0) {
        t = std::abs(thickness - frame.dk) < 0.01 ? QStringLiteral("%1 mm slices").arg(mm(thickness))
                                                  : QStringLiteral("%1 mm slices, %2 apart").arg(mm(thickness), mm(frame.dk, 2));
    } else {
        t = QStringLiteral("reformat, %1 mm apart").arg(mm(frame.dk, 2));
    }
    if (!complete) t += QStringLiteral("  (loading)");
    info.setText(s + "\n" + t);
    values.setText(QStringLiteral("W %1  L %2\nZoom %3x").arg(std::lround(wl.window)).arg(std::lround(wl.level)).arg(mm(zoomFactor(), 2)));
    cursor.setText(cursorText);
}

void SliceView::Impl::placeQuad() {
    const double ppm = pixelsPerMm(), W = deviceWidth(), H = deviceHeight();
    auto x = [&](double u) { return W / 2.0 + (u * frame.du - focalX) * ppm; };
    auto y = [&](double v) { return H - (H / 2.0 + (v * frame.dv - focalY) * ppm); };
    const double left = x(-0.5), right = x(frame.width - 0.5), top = y(-0.5), bottom = y(frame.height - 0.5);
    quadNdc = {static_cast<float>(left / W * 2 - 1), static_cast<float>(bottom / H * 2 - 1), static_cast<float>(right / W * 2 - 1),
               static_cast<float>(top / H * 2 - 1)};
}

void SliceView::Impl::applyCamera() {
    placeQuad();
    vtkCamera* cam = renderer->GetActiveCamera();
    cam->SetFocalPoint(focalX, focalY, 0);
    cam->SetPosition(focalX, focalY, -1000);
    cam->SetViewUp(0, -1, 0);
    cam->SetParallelScale(scale);
    renderer->ResetCameraClippingRange(); // image at z = 0, camera 1000 mm away
    cam->SetClippingRange(1, 2000);
}

void SliceView::Impl::doFit() {
    if (!volume) return;
    const double wMm = frame.width * frame.du, hMm = frame.height * frame.dv;
    const double aspect = static_cast<double>(deviceWidth()) / deviceHeight();
    fitScale = std::max(hMm / 2.0, wMm / 2.0 / aspect) * 1.02;
    scale = fitScale;
    focalX = (frame.width - 1) / 2.0 * frame.du;
    focalY = (frame.height - 1) / 2.0 * frame.dv;
    fitted = true;
}

void SliceView::Impl::openingView() {
    doFit();
    if (openingPpm <= 0 || !volume || !canShow(k)) return;
    // the body: what is not air on the slice shown (CT below -500 HU; otherwise the lowest tenth
    // of the slice's range), sampled every other pixel
    const auto at = [&](int u, int v) { return volume->voxels[static_cast<std::size_t>(frame.index(u, v, k))]; };
    int lo = 32767, hi = -32768;
    for (int v = 0; v < frame.height; v += 2)
        for (int u = 0; u < frame.width; u += 2) lo = std::min<int>(lo, at(u, v)), hi = std::max<int>(hi, at(u, v));
    const int threshold = unit == QStringLiteral("HU") && lo <= -900 ? -500 : lo + (hi - lo) / 10;
    // rows and columns where the body is: at least 3 % of the samples across (a thin table under
    // the patient, which spans the whole width, does not widen the body)
    std::vector<int> columns(static_cast<std::size_t>(frame.width), 0), rows(static_cast<std::size_t>(frame.height), 0);
    for (int v = 0; v < frame.height; v += 2)
        for (int u = 0; u < frame.width; u += 2)
            if (at(u, v) > threshold) ++columns[static_cast<std::size_t>(u)], ++rows[static_cast<std::size_t>(v)];
    const int minColumn = std::max(3, frame.height / 2 * 3 / 100), minRow = std::max(3, frame.width / 2 * 3 / 100);
    int u0 = frame.width, u1 = -1, v0 = frame.height, v1 = -1;
    for (int u = 0; u < frame.width; ++u)
        if (columns[static_cast<std::size_t>(u)] >= minColumn) u0 = std::min(u0, u), u1 = std::max(u1, u);
    for (int v = 0; v < frame.height; ++v)
        if (rows[static_cast<std::size_t>(v)] >= minRow) v0 = std::min(v0, v), v1 = std::max(v1, v);
    if (u1 < u0 || v1 < v0) return; // nothing but air: the whole image
    const double bodyW = (u1 - u0 + 2) * frame.du, bodyH = (v1 - v0 + 2) * frame.dv;
    const double aspect = static_cast<double>(deviceWidth()) / deviceHeight();
    const double bodyScale = std::max(bodyH / 2.0, bodyW / 2.0 / aspect) * 1.05;
    const double wanted = deviceHeight() / 2.0 / (openingPpm * dpr()); // the scale giving openingPpm screen pixels per mm
    // the magnification a reading room expects, as long as most of the body stays in view (a
    // narrow view gets the body fitted rather than a crop of it)
    const double visibleWidthAtWanted = deviceWidth() / (openingPpm * dpr());
    scale = std::min(fitScale, visibleWidthAtWanted >= 0.5 * bodyW ? std::min(bodyScale, wanted) : bodyScale);
    focalX = (u0 + u1) / 2.0 * frame.du;
    focalY = (v0 + v1) / 2.0 * frame.dv;
}

void SliceView::Impl::separateCorners() {
    const int w = deviceWidth(), h = deviceHeight(), m = static_cast<int>(8 * dpr());
    info.place(OverlayText::BottomLeft, m, m);
    values.place(OverlayText::BottomRight, w - m, m);
    if (info.rect().intersects(values.rect().adjusted(-m, 0, m, 0)))
        values.place(OverlayText::BottomRight, w - m, m + info.rect().height() + m / 2);
    caption.place(OverlayText::TopLeft, m, h - m);
    cursor.place(OverlayText::TopRight, w - m, h - m);
    if (caption.rect().intersects(cursor.rect().adjusted(-m, 0, m, 0)))
        cursor.place(OverlayText::TopRight, w - m, h - m - caption.rect().height() - m / 2);
    // the orientation letters at the top and bottom edges clear the corner texts
    int top = h - m - static_cast<int>(22 * dpr()), bottom = m + static_cast<int>(22 * dpr());
    labels[2].place(OverlayText::Top, w / 2, top);
    labels[3].place(OverlayText::Bottom, w / 2, bottom);
    for (const OverlayText* t : {&caption, &cursor})
        if (labels[2].rect().intersects(t->rect())) top = std::min(top, t->rect().top() - m / 2);
    for (const OverlayText* t : {&info, &values})
        if (labels[3].rect().intersects(t->rect())) bottom = std::max(bottom, t->rect().bottom() + 1 + m / 2);
    labels[2].place(OverlayText::Top, w / 2, top);
    labels[3].place(OverlayText::Bottom, w / 2, bottom);
}

void SliceView::Impl::drawSlice(GLuint framebuffer, bool showImage) {
    QOpenGLExtraFunctions* f = gl->context()->extraFunctions();
    if (!program) {
        program = new QOpenGLShaderProgram;
        program->addShaderFromSourceCode(QOpenGLShader::Vertex,
                                         "#version 150\n"
                                         "uniform vec4 rect; out vec2 uv;\n"
                                         "void main() {\n"
                                         "  vec2 corner = vec2(gl_VertexID & 1, gl_VertexID >> 1);\n"
                                         "  uv = vec2(corner.x, 1.0 - corner.y);\n" // texture row 0 (the top) at the quad's top
                                         "  gl_Position = vec4(mix(rect.xy, rect.zw, corner), 0.0, 1.0);\n"
                                         "}\n");
        program->addShaderFromSourceCode(QOpenGLShader::Fragment,
                                         "#version 150\n"
                                         "uniform sampler2D slice; in vec2 uv; out vec4 colour;\n"
                                         "void main() { float g = texture(slice, uv).r; colour = vec4(g, g, g, 1.0); }\n");
        program->link();
        f->glGenVertexArrays(1, &vao);
        f->glGenTextures(1, &texture);
    }
    f->glBindFramebuffer(GL_FRAMEBUFFER, framebuffer);
    f->glViewport(0, 0, deviceWidth(), deviceHeight());
    f->glDisable(GL_SCISSOR_TEST);
    f->glDisable(GL_BLEND);
    f->glDisable(GL_DEPTH_TEST);
    f->glDepthMask(GL_TRUE);
    f->glColorMask(GL_TRUE, GL_TRUE, GL_TRUE, GL_TRUE);
    f->glClearColor(0, 0, 0, 1);
    f->glClearDepthf(1);
    f->glClear(GL_COLOR_BUFFER_BIT | GL_DEPTH_BUFFER_BIT);
    if (showImage) {
        f->glActiveTexture(GL_TEXTURE0);
        f->glBindTexture(GL_TEXTURE_2D, texture);
        f->glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
        f->glPixelStorei(GL_UNPACK_ROW_LENGTH, 0);
        if (textureWidth != frame.width || textureHeight != frame.height) {
            f->glTexImage2D(GL_TEXTURE_2D, 0, GL_R8, frame.width, frame.height, 0, GL_RED, GL_UNSIGNED_BYTE, pixels.data());
            f->glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR);
            f->glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_LINEAR);
            f->glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
            f->glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
            textureWidth = frame.width, textureHeight = frame.height;
        } else if (pixelsDirty) {
            f->glTexSubImage2D(GL_TEXTURE_2D, 0, 0, 0, frame.width, frame.height, GL_RED, GL_UNSIGNED_BYTE, pixels.data());
        }
        pixelsDirty = false;
        program->bind();
        program->setUniformValue("rect", quadNdc[0], quadNdc[1], quadNdc[2], quadNdc[3]);
        program->setUniformValue("slice", 0);
        f->glBindVertexArray(vao);
        f->glDrawArrays(GL_TRIANGLE_STRIP, 0, 4);
        f->glBindVertexArray(0);
        program->release();
        f->glBindTexture(GL_TEXTURE_2D, 0);
    }
    f->glEnable(GL_DEPTH_TEST);
    f->glBindFramebuffer(GL_FRAMEBUFFER, gl->defaultFramebufferObject());
}

void SliceView::Impl::releaseGl() {
    if (!program) return;
    QOpenGLExtraFunctions* f = gl->context()->extraFunctions();
    f->glDeleteVertexArrays(1, &vao);
    f->glDeleteTextures(1, &texture);
    delete program;
    program = nullptr;
}

void SliceView::Impl::updateCursor(QPointF p) {
    double u, v;
    std::int16_t hu;
    if (volume && canShow(k) && self->pixelAt(p, u, v) &&
        vc::valueAt(*volume, frame, k, static_cast<int>(std::lround(u)), static_cast<int>(std::lround(v)), hu)) {
        const auto pt = frame.patient(std::lround(u), std::lround(v), k);
        cursorText = QStringLiteral("%1%2\n(%3, %4, %5) mm")
                         .arg(hu)
                         .arg(unit.isEmpty() ? QString() : " " + unit)
                         .arg(mm(pt[0]))
                         .arg(mm(pt[1]))
                         .arg(mm(pt[2]));
    } else {
        cursorText.clear();
    }
}

} // namespace vg
