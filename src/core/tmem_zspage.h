/*
 * tmem_zspage.h - the zspage model of the store's budget (tmem_zspage.c):
 * its state, which struct tmem points to when cfg.budget is
 * TMEM_BUDGET_ZSPAGES, and what the other files of the core call.
 *
 * Each RAW or COMPRESSED record's data (a dedup owner's: one object for
 * all its users) is an object in one zspage of its size class, as
 * zsmalloc would place it; the budget's use is the pages of the live
 * zspages (zs_get_total_pages). A side table maps the record's id to its
 * zspage.
 *
 * Thread-safety: every call may be made from any thread. A class's lock
 * is innermost (nothing is taken under it); the side table's growth lock
 * is taken with no class lock held. The caller of store/release holds the
 * record's stripe lock (or the record is not yet / no longer reachable).
 */
#ifndef TMEM_ZSPAGE_H
#define TMEM_ZSPAGE_H

#include <stdint.h>

struct tmem;
struct tmem_check_report;
struct tmem_zspages;        /* the model's state (tmem_zspage.c) */
struct tmem_zspage_census;  /* the checker's count of objects (tmem_zspage.c) */

/* Set up tm->zspages when tm->cfg.budget is TMEM_BUDGET_ZSPAGES (else
 * leave it NULL): 0 or -ENOMEM. fini frees it (no object may be live). */
int tmem_zspage_init(struct tmem *tm);
void tmem_zspage_fini(struct tmem *tm);

/*
 * Place the data of record page_id (len stored bytes, len <= page size)
 * as one object: in the fullest non-full zspage of its class, or a new
 * zspage (the budget's use grows by its pages). 0, or -ENOMEM (nothing
 * changed).
 */
int tmem_zspage_store(struct tmem *tm, uint32_t page_id, uint32_t len);
/* Free record page_id's object: its zspage goes when it is empty. */
void tmem_zspage_release(struct tmem *tm, uint32_t page_id);
/* What storing len bytes now would add to the budget's use: 0 when its
 * class has a zspage with a free slot, else a new zspage's bytes. */
uint64_t tmem_zspage_charge_estimate(struct tmem *tm, uint32_t len);

/*
 * The checker's part. census_new: a count per zspage, all 0 (NULL on
 * ENOMEM). count: record page_id holds len bytes of data: its side-table
 * entry must name a live zspage of len's class; count it there (0 or
 * -EUCLEAN). verify: every live zspage's objects counted match its count
 * of used objects, it is on the list of its fullness group, the classes'
 * totals match, no page id is mapped that was not counted, and the
 * budget's use is the live zspages' pages (0 or -EUCLEAN). free: NULL
 * is fine.
 */
struct tmem_zspage_census *tmem_zspage_census_new(struct tmem *tm);
int tmem_zspage_census_count(struct tmem *tm, struct tmem_zspage_census *census,
                             uint32_t page_id, uint32_t len, struct tmem_check_report *r);
int tmem_zspage_census_verify(struct tmem *tm, struct tmem_zspage_census *census,
                              struct tmem_check_report *r);
void tmem_zspage_census_free(struct tmem_zspage_census *census);

#endif /* TMEM_ZSPAGE_H */
